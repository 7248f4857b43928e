"""Generator quality on features of the suite's own classifier: the FID and KID formulas,
precision and recall for generative models, and a memorization check.

These use this suite's classifier, not Inception-v3, so they are not comparable with published
FID or KID numbers; compare them only between generators scored with the same feature network.
"""

import warnings

import numpy as np
from scipy import linalg
from scipy.spatial import distance

from ..errors import SmateError

# The largest imaginary part of (S_r S_f)^(1/2)'s diagonal taken for numerical noise (pytorch-fid's bound).
IMAGINARY_TOLERANCE = 1e-3


def frechet_distance(real, fake, eps=1e-6):
    """||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)): the FID formula (Heusel et al. 2017)."""
    mu_r, mu_f = real.mean(0), fake.mean(0)
    cov_r, cov_f = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    root = _covariance_root(cov_r, cov_f, eps)
    return float(((mu_r - mu_f) ** 2).sum() + np.trace(cov_r + cov_f - 2 * root))


def _covariance_root(cov_r, cov_f, eps):
    """(S_r S_f)^(1/2), real. Dead feature units make both covariances singular, where the square root
    can fail; then eps * I is added to each. Numerical noise leaves a tiny imaginary part, which is
    dropped; a large one means the features are broken, not noisy."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", linalg.LinAlgWarning)  # scipy's word that the product is singular
        try:
            root = linalg.sqrtm(cov_r @ cov_f)
        except linalg.LinAlgWarning:
            root = np.full_like(cov_r, np.nan)
    if not np.isfinite(root).all():
        offset = eps * np.eye(len(cov_r))
        root = linalg.sqrtm((cov_r + offset) @ (cov_f + offset))
    if np.iscomplexobj(root):
        imaginary = np.abs(np.diagonal(root).imag).max()
        if imaginary > IMAGINARY_TOLERANCE:
            raise SmateError(f"the Frechet distance's matrix square root has an imaginary part of {imaginary:.3g}: "
                             "the feature covariances are not valid (check the feature net's features for NaN or inf)")
        root = root.real
    return root


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


def precision_recall(real, fake, k=3, draws=5, seed=0):
    """Kynkaanniemi et al. (2019): precision is the share of fakes inside the real manifold (the union of
    balls reaching each real point's k-th nearest real neighbour); recall is the converse.
    A set's balls shrink as it grows, so both sets are compared at the smaller one's size, as the paper
    does: with unequal sets, the mean over `draws` random cuts of the larger one. Sets of k points or fewer
    (a handful of held-out minority images) use the largest k they have; under two points both are NaN."""
    size = min(len(real), len(fake))
    if size < 2:
        return float("nan"), float("nan")
    k = min(k, size - 1)
    if len(real) == len(fake):
        return _precision_recall(real, fake, k)
    rng = np.random.default_rng(seed)
    cuts = [(real[rng.choice(len(real), size, replace=False)] if len(real) > size else real,
             fake[rng.choice(len(fake), size, replace=False)] if len(fake) > size else fake) for _ in range(draws)]
    precisions, recalls = zip(*(_precision_recall(real_cut, fake_cut, k) for real_cut, fake_cut in cuts))
    return float(np.mean(precisions)), float(np.mean(recalls))


def _precision_recall(real, fake, k):
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
