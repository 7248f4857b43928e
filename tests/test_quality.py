import numpy as np
import pytest

from smate.errors import SmateError
from smate.gan import quality


@pytest.fixture(scope="module")
def gaussians():
    rng = np.random.default_rng(0)
    return rng.normal(size=(600, 8)), rng.normal(size=(600, 8)), rng.normal(size=(600, 8)) + 3.0


def test_frechet_distance_is_near_zero_for_one_distribution_and_grows_with_a_shift(gaussians):
    real, same, shifted = gaussians
    assert quality.frechet_distance(real, same) < 0.2
    # A mean shift of 3 in each of 8 dimensions adds 8 * 9 = 72.
    assert quality.frechet_distance(real, shifted) == pytest.approx(72, rel=0.05)


@pytest.mark.filterwarnings("error")
def test_frechet_distance_copes_with_dead_feature_units(gaussians):
    real, fake = gaussians[0].copy(), gaussians[1].copy()
    real[:, :3], fake[:, 1:3] = 0, 0  # units that never fire: both covariances are singular
    cov_r, cov_f = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    # Tr (S_r S_f)^(1/2) as the sum of the square roots of the product's eigenvalues, real and >= 0 in exact arithmetic.
    trace_root = np.sqrt(np.clip(np.linalg.eigvals(cov_r @ cov_f).real, 0, None)).sum()
    expected = ((real.mean(0) - fake.mean(0)) ** 2).sum() + np.trace(cov_r + cov_f) - 2 * trace_root
    assert quality.frechet_distance(real, fake) == pytest.approx(expected, abs=0.01)


def test_frechet_distance_refuses_a_square_root_with_a_large_imaginary_part(gaussians, monkeypatch):
    monkeypatch.setattr(quality.linalg, "sqrtm", lambda matrix: matrix + 0.5j)
    with pytest.raises(SmateError, match="imaginary part of 0.5"):
        quality.frechet_distance(*gaussians[:2])


def test_kernel_distance_is_unbiased_near_zero_and_positive_for_a_shift(gaussians):
    real, same, shifted = gaussians
    mean, std = quality.kernel_distance(real, same, subsets=5, subset_size=300)
    assert abs(mean) < 0.05 and std >= 0
    assert quality.kernel_distance(real, shifted, subsets=5, subset_size=300)[0] > 1


def test_precision_and_recall_separate_quality_from_coverage(gaussians):
    real, same, shifted = gaussians
    precision, recall = quality.precision_recall(real, same)
    # With k = 3 in 8 dimensions, the k-NN balls cover about 87% of a second sample of the same law.
    assert precision > 0.8 and recall > 0.8
    assert quality.precision_recall(real, shifted) == (0.0, 0.0)
    # Fakes that collapse onto a few real points: every fake looks real, little is covered.
    precision, recall = quality.precision_recall(real, np.repeat(real[:5], 120, axis=0) + 1e-6)
    assert precision == 1.0 and recall < 0.2


def test_precision_and_recall_compare_sets_of_equal_size(gaussians, monkeypatch):
    real, same, _ = gaussians
    compared = []
    scores = quality._precision_recall
    monkeypatch.setattr(quality, "_precision_recall", lambda r, f, k: compared.append((len(r), len(f))) or scores(r, f, k))
    precision, recall = quality.precision_recall(real[:100], same, draws=4)
    assert compared == [(100, 100)] * 4
    precisions, recalls = zip(*(scores(real[:100], same[index], 3) for index in _cuts(600, 100, 4)))
    assert (precision, recall) == pytest.approx((np.mean(precisions), np.mean(recalls)))


def _cuts(n, size, draws, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.choice(n, size, replace=False) for _ in range(draws)]


def test_memorization_flags_copies_of_training_images():
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, (50, 8, 8, 3), dtype=np.uint8)
    heldout = rng.integers(0, 256, (50, 8, 8, 3), dtype=np.uint8)
    copies = quality.memorization(train[:20], train, heldout)
    assert copies["ratio"] == 0.0 and copies["synthetic_closer_than_any_heldout"] == 1.0
    fresh = quality.memorization(rng.integers(0, 256, (20, 8, 8, 3), dtype=np.uint8), train, heldout)
    assert 0.8 < fresh["ratio"] < 1.2
