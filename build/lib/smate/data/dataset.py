"""An image set as uint8 (N, H, W, C) arrays (Dataset), and the steps every source of image files shares: a
seeded test split where the files have none, the classes checked, the files decoded and what was read hashed.
The sources themselves are smate/data/sources/."""

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np

from ..errors import SmateError
from .images import decode_files

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")
SPLITS = ("train", "test")


@dataclass
class Dataset:
    train_images: np.ndarray  # uint8 (N, H, W, C), C 1 or 3
    train_labels: np.ndarray  # int64 (N,)
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: list
    source: dict = field(default_factory=dict)  # kind, root, layout, sha256 of what was read


@dataclass(frozen=True)
class Entry:
    """One image file: its split (None until one is drawn), class name, and path inside the source."""

    split: str
    label: str
    name: str


def load_files(source, root, base, entries, layout, limits, progress, policy, test_fraction, test_seed):
    """A Dataset of the image files `entries` (names relative to `base`) that source `source` listed in `root`."""
    if not entries:
        raise SmateError(f"no images found in '{root}'; expected train/<class>/<image> and test/<class>/<image>, "
                         "<class>/<image>, or a CSV with path and label columns")
    drawn = not any(e.split for e in entries)
    if drawn:
        entries = draw_test_split(entries, test_fraction, test_seed, root)
    classes = _check_classes(entries, root)
    chosen = _choose(entries, classes, limits)
    images, sums = decode_files(base, [e.name for e in chosen], policy, progress, describe=lambda name: base / name)
    # Hash split/class/file names, not archive paths, so a folder and its zip get one checksum.
    digest = hashlib.sha256()
    for entry, file_sum in zip(chosen, sums):
        digest.update(f"{entry.split}/{entry.label}/{PurePosixPath(entry.name).name}".encode() + b"\0" + file_sum)
    labels = np.array([classes.index(e.label) for e in chosen], dtype=np.int64)
    n_train = sum(e.split == "train" for e in chosen)  # train entries come first: the two parts are views
    made = {"test_fraction": test_fraction, "test_seed": test_seed} if drawn else None
    return Dataset(images[:n_train], labels[:n_train], images[n_train:], labels[n_train:], classes=classes,
                   source={"kind": source, "root": str(root), "layout": layout, "test_split_drawn": made,
                           "sha256": digest.hexdigest()})


def draw_test_split(entries, fraction, seed, root):
    """The entries with a seeded test split of `fraction` of each class (stratified, scikit-learn's)."""
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise SmateError(f"data.test_fraction must be between 0 and 1, got {fraction}")
    labels = [e.label for e in entries]
    counts = {label: labels.count(label) for label in set(labels)}
    single = sorted(label for label, n in counts.items() if n < 2)
    if single:
        raise SmateError(f"class '{single[0]}' in '{root}' has one image; a stratified test split needs at least two "
                         "a class: add images or drop the class")
    n_test = int(np.ceil(fraction * len(entries)))
    if n_test < len(counts) or len(entries) - n_test < len(counts):
        raise SmateError(f"data.test_fraction {fraction} of {len(entries)} images cannot hold each of the {len(counts)} "
                         "classes in both splits; choose a test_fraction nearer 0.5 or add images")
    ordered = sorted(entries, key=lambda e: (e.label, e.name))
    train, test = train_test_split(ordered, test_size=n_test, stratify=[e.label for e in ordered], random_state=seed)
    return [Entry("train", e.label, e.name) for e in train] + [Entry("test", e.label, e.name) for e in test]


def _check_classes(entries, root):
    classes = sorted({e.label for e in entries if e.split == "train"})
    test_classes = {e.label for e in entries if e.split == "test"}
    if not classes:
        raise SmateError(f"no train images in '{root}'; expected files like train/cat/0001.jpg")
    if len(classes) < 2:
        raise SmateError(f"'{root}' has one class, '{classes[0]}'; a classifier and a rebalancing need two or more: add "
                         "a folder (or CSV label) for each other class")
    if not test_classes:
        raise SmateError(f"no test images in '{root}'; the test split is needed to score every method: add test/<class>/ "
                         "images, or give only <class>/ folders and a split is drawn (data.test_fraction)")
    lacking = sorted(set(classes) - test_classes)
    if lacking:
        raise SmateError(f"the test split of '{root}' lacks class '{lacking[0]}'; add test images of '{lacking[0]}' "
                         "or drop the class from train")
    extra = sorted(test_classes - set(classes))
    if extra:
        raise SmateError(f"the test split of '{root}' has class '{extra[0]}' that train lacks; add train images of it "
                         "or remove it")
    return classes


def _choose(entries, classes, limits):
    """Per split and class, the first `limit` files in sorted order (so subsets are the same everywhere),
    the train split first."""
    grouped = {}
    for entry in entries:
        grouped.setdefault((entry.split, entry.label), []).append(entry)
    chosen = []
    for split in SPLITS:
        for cls in classes:
            members = sorted(grouped.get((split, cls), []), key=lambda e: e.name)
            chosen.extend(members[: limits[split]] if limits[split] else members)
    return chosen


def check_consistent(dataset):
    for split in SPLITS:
        images = getattr(dataset, f"{split}_images")
        if len(images) == 0:
            raise SmateError(f"the {split} split of '{dataset.source['root']}' has no images")
