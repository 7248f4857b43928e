"""Generator quality on features of the suite's own classifier: the FID and KID formulas,
precision and recall for generative models, and a memorization check.

These use this suite's classifier, not Inception-v3, so they are not comparable with published
FID or KID numbers; compare them only between generators scored with the same feature network.
"""

import numpy as np
from scipy import linalg
from scipy.spatial import distance


def frechet_distance(real, fake):
    """||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)): the FID formula (Heusel et al. 2017)."""
    mu_r, mu_f = real.mean(0), fake.mean(0)
    cov_r, cov_f = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    root = np.real(linalg.sqrtm(cov_r @ cov_f))  # numerical noise can leave a tiny imaginary part
    return float(((mu_r - mu_f) ** 2).sum() + np.trace(cov_r + cov_f - 2 * root))


def kernel_distance(real, fake, subsets=10, subset_size=1000, seed=0):
    """Unbiased MMD^2 with the cubic polynomial kernel, averaged over random subsets: the KID formula
    (Binkowski et al. 2018). Returns (mean, std) over the subsets."""
    rng = np.random.default_rng(seed)
    size = min(subset_size, len(real), len(fake))
    dim = real.shape[1]
    values = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), size, replace=False)]
        y = fake[rng.choice(len(fake), size, replace=False)]
        k_xx, k_yy, k_xy = ((a @ b.T / dim + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        off_diagonal = size * (size - 1)
        values.append((k_xx.sum() - np.trace(k_xx)) / off_diagonal + (k_yy.sum() - np.trace(k_yy)) / off_diagonal
                      - 2 * k_xy.mean())
    return float(np.mean(values)), float(np.std(values))


def _kth_neighbour_radii(points, k):
    distances = _pairwise(points, points)
    return np.sort(distances, axis=1)[:, k]  # column 0 is the point itself


def _pairwise(a, b):
    # Pair by pair, not |a|^2 + |b|^2 - 2ab: that leaves about 1e-8 between an image and its copy.
    return distance.cdist(a, b)


def precision_recall(real, fake, k=3):
    """Kynkaanniemi et al. (2019): precision is the share of fakes inside the real manifold (the union of
    balls reaching each real point's k-th nearest real neighbour); recall is the converse."""
    real_radii, fake_radii = _kth_neighbour_radii(real, k), _kth_neighbour_radii(fake, k)
    precision = (_pairwise(fake, real) <= real_radii[None, :]).any(1).mean()
    recall = (_pairwise(real, fake) <= fake_radii[None, :]).any(1).mean()
    return float(precision), float(recall)


def memorization(synthetic, train, heldout):
    """Nearest-neighbour pixel distances to the minority train images, for synthetic images and, as the
    yardstick, for held-out real images of the same class. A ratio well below 1 means copies."""
    def nearest(images):
        return _pairwise(_flat(images), _flat(train)).min(1)

    synthetic_nn, heldout_nn = nearest(synthetic), nearest(heldout)
    return {
        "synthetic_nn_median": float(np.median(synthetic_nn)),
        "heldout_nn_median": float(np.median(heldout_nn)),
        "ratio": float(np.median(synthetic_nn) / np.median(heldout_nn)),
        "synthetic_closer_than_any_heldout": float((synthetic_nn < heldout_nn.min()).mean()),
    }


def _flat(images):
    return images.reshape(len(images), -1).astype(np.float64) / 255
