import re
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from smate.config import build_config
from smate.data import class_ids, load_dataset, make_imbalanced, profile_counts
from smate.errors import SmateError

from conftest import FIXTURE

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def test_imagefolder_loads_real_images_as_uint8_nhwc():
    dataset = load_dataset("auto", FIXTURE)
    assert dataset.classes == CLASSES
    assert dataset.train_images.shape == (200, 32, 32, 3) and dataset.train_images.dtype == np.uint8
    assert dataset.test_images.shape == (100, 32, 32, 3)
    assert np.bincount(dataset.train_labels).tolist() == [20] * 10
    assert np.bincount(dataset.test_labels).tolist() == [10] * 10
    assert dataset.source["kind"] == "imagefolder" and len(dataset.source["sha256"]) == 64
    first = np.asarray(Image.open(FIXTURE / "train" / "airplane" / "0000.jpg").convert("RGB"))
    np.testing.assert_array_equal(dataset.train_images[0], first)


def test_zip_with_a_top_folder_gives_the_same_arrays_and_checksum(tmp_path):
    archive = tmp_path / "mini.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(FIXTURE.rglob("*.jpg")):
            handle.write(path, "cifar10-mini/" + path.relative_to(FIXTURE).as_posix())
    folder, zipped = load_dataset("auto", FIXTURE), load_dataset("auto", archive)
    np.testing.assert_array_equal(folder.train_images, zipped.train_images)
    np.testing.assert_array_equal(folder.test_labels, zipped.test_labels)
    assert folder.source["sha256"] == zipped.source["sha256"]


def test_max_per_class_takes_the_first_files_of_each_class():
    dataset = load_dataset("imagefolder", FIXTURE, max_train_per_class=3, max_test_per_class=2)
    assert np.bincount(dataset.train_labels).tolist() == [3] * 10
    assert np.bincount(dataset.test_labels).tolist() == [2] * 10
    full = load_dataset("imagefolder", FIXTURE)
    np.testing.assert_array_equal(dataset.train_images[:3], full.train_images[:3])


@pytest.fixture
def copy_of_fixture(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(FIXTURE, root)
    return root


def test_missing_root(tmp_path):
    with pytest.raises(SmateError, match="does not exist"):
        load_dataset("imagefolder", tmp_path / "nope")


def test_empty_folder(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(SmateError, match="no images found in"):
        load_dataset("auto", tmp_path)


def test_corrupt_image_is_named(copy_of_fixture):
    (copy_of_fixture / "train" / "cat" / "0003.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(SmateError, match="cannot decode image .*cat/0003.jpg"):
        load_dataset("auto", copy_of_fixture)


def test_mixed_image_sizes_are_named(copy_of_fixture):
    Image.new("RGB", (48, 40)).save(copy_of_fixture / "train" / "dog" / "9999.png")
    with pytest.raises(SmateError, match="images differ in size: .*dog/9999.png' is 48x40"):
        load_dataset("auto", copy_of_fixture)


def test_test_split_lacking_a_class(copy_of_fixture):
    shutil.rmtree(copy_of_fixture / "test" / "ship")
    with pytest.raises(SmateError, match="lacks class 'ship'"):
        load_dataset("auto", copy_of_fixture)


def test_corrupt_zip(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(SmateError, match="not a readable .zip"):
        load_dataset("auto", bad)


def test_offline_cifar10_download_says_how_to_point_at_a_local_copy(tmp_path, monkeypatch):
    import torchvision

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", refuse)
    with pytest.raises(SmateError, match="could not be downloaded .*data.root"):
        load_dataset("cifar10", tmp_path / "cifar")


def test_unknown_class_lists_the_known_ones():
    with pytest.raises(SmateError, match="unknown class 'lorry'.*truck"):
        class_ids(CLASSES, ["lorry"])


def test_make_imbalanced_keeps_ratio_of_each_minority_class():
    labels = np.repeat(np.arange(4), 50)
    kept = make_imbalanced(labels, [1, 3], 0.1, seed=0)
    assert np.bincount(labels[kept]).tolist() == [50, 5, 50, 5]
    assert np.all(np.diff(kept) > 0)


def test_make_imbalanced_is_seeded_and_platform_stable():
    labels = np.repeat(np.arange(3), 10)
    kept = make_imbalanced(labels, [2], 0.3, seed=0)
    # PCG64's stream is fixed across platforms, so these exact indices hold everywhere.
    assert kept[20:].tolist() == [25, 26, 29]
    assert make_imbalanced(labels, [2], 0.3, seed=0).tolist() == kept.tolist()
    assert make_imbalanced(labels, [2], 0.3, seed=1).tolist() != kept.tolist()


def test_make_imbalanced_ratio_one_keeps_everything_and_tiny_ratio_keeps_one():
    labels = np.repeat(np.arange(2), 10)
    assert len(make_imbalanced(labels, [0], 1.0, seed=0)) == 20
    assert np.bincount(labels[make_imbalanced(labels, [0], 0.001, seed=0)]).tolist() == [1, 10]


def test_the_exp_profile_is_cifar10_lt():
    # CIFAR-10-LT at factor 100 (Cao et al. 2019, whose code floors each count): 12,406 train images.
    labels = np.repeat(np.arange(10), 5000)
    kept = make_imbalanced(labels, [9], 1.0, seed=0, profile="exp", imbalance_factor=100)
    assert np.bincount(labels[kept]).tolist() == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert len(kept) == 12406


def test_the_step_profile_cuts_the_second_half_of_the_classes():
    labels = np.repeat(np.arange(4), 100)
    kept = make_imbalanced(labels, [3], 1.0, seed=0, profile="step", imbalance_factor=10)
    assert np.bincount(labels[kept]).tolist() == [100, 100, 10, 10]


def test_a_profile_never_asks_for_more_images_than_a_class_has():
    labels = np.repeat(np.arange(3), [100, 20, 100])
    assert profile_counts([100, 20, 100], "exp", imbalance_factor=4) == {2: 25}
    kept = make_imbalanced(labels, [2], 1.0, seed=0, profile="exp", imbalance_factor=4)
    assert np.bincount(labels[kept]).tolist() == [100, 20, 25]


def test_the_minority_profile_keeps_the_indices_it_kept_before_profiles_existed():
    labels = np.repeat(np.arange(3), 10)
    assert make_imbalanced(labels, [2], 0.3, seed=0, profile="minority", imbalance_factor=50)[20:].tolist() == [25, 26, 29]


def test_a_profile_that_empties_a_class_names_it_and_the_fix():
    labels = np.repeat(np.arange(4), 10)
    with pytest.raises(SmateError, match="imbalance_factor 20.*leaves truck no image of its 10; lower the factor to at most 10"):
        make_imbalanced(labels, [3], 1.0, seed=0, profile="exp", imbalance_factor=20, classes=["a", "b", "c", "truck"])
    with pytest.raises(SmateError, match="unknown data.profile 'zipf'"):
        make_imbalanced(labels, [3], 1.0, seed=0, profile="zipf")


@pytest.mark.parametrize("override, message", [
    ("data.profile=zipf", "unknown data.profile 'zipf'; choose one of: minority, exp, step"),
    ("data.imbalance_factor=0.5", "data.imbalance_factor must be at least 1"),
])
def test_bad_profile_settings_stop_before_any_work(override, message):
    with pytest.raises(SmateError, match=re.escape(message)):
        build_config(preset="tiny", overrides=[override])
