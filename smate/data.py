"""Load an image dataset into uint8 (N, H, W, 3) arrays, and cut minority classes to make it imbalanced."""

import hashlib
import io
import zipfile
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import SmateError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
SPLITS = ("train", "test")


@dataclass
class Dataset:
    train_images: np.ndarray  # uint8 (N, H, W, 3)
    train_labels: np.ndarray  # int64 (N,)
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: list
    source: dict = field(default_factory=dict)  # kind, root, sha256 of what was read


def load_dataset(source, root, max_train_per_class=None, max_test_per_class=None, progress=False):
    """Load `root` as torchvision CIFAR-10 or as an ImageFolder (folder or .zip); `source` may be 'auto'."""
    root = Path(root)
    if source == "auto":
        source = "imagefolder" if _looks_like_imagefolder(root) else "cifar10"
    limits = {"train": max_train_per_class, "test": max_test_per_class}
    if source == "cifar10":
        dataset = _load_cifar10(root, limits)
    else:
        dataset = _load_imagefolder(root, limits, progress)
    _check_consistent(dataset)
    return dataset


def _looks_like_imagefolder(root):
    return root.suffix == ".zip" or (root / "train").is_dir()


def _load_cifar10(root, limits):
    import torchvision

    batches = root / "cifar-10-batches-py"
    if not batches.is_dir():
        try:
            torchvision.datasets.CIFAR10(root, train=True, download=True)
        except Exception as err:
            raise SmateError(
                f"CIFAR-10 is not in '{root}' and could not be downloaded ({type(err).__name__}: {err}); "
                "point data.root at a local copy: a folder holding cifar-10-batches-py, or an ImageFolder "
                "folder or .zip with train/<class>/ and test/<class>/ (--set data.root=PATH)"
            ) from None
    parts = {split: torchvision.datasets.CIFAR10(root, train=split == "train", download=False) for split in SPLITS}
    digest = hashlib.sha256()
    for path in sorted(batches.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    arrays = {}
    for split, part in parts.items():
        labels = np.asarray(part.targets, dtype=np.int64)
        keep = _first_per_class(labels, limits[split])
        arrays[split] = (np.ascontiguousarray(part.data[keep]), labels[keep])
    return Dataset(
        *arrays["train"], *arrays["test"], classes=list(parts["train"].classes),
        source={"kind": "cifar10", "root": str(root), "sha256": digest.hexdigest()},
    )


def _first_per_class(labels, limit):
    if limit is None:
        return np.arange(len(labels))
    keep = np.concatenate([np.flatnonzero(labels == c)[:limit] for c in np.unique(labels)])
    return np.sort(keep)


def _load_imagefolder(root, limits, progress):
    if not root.exists():
        raise SmateError(f"data.root '{root}' does not exist; point it at a folder or .zip with train/<class>/ and test/<class>/")
    files = _list_zip(root) if root.suffix == ".zip" else _list_folder(root)
    classes = sorted({cls for split, cls, _ in files if split == "train"})
    if not classes:
        raise SmateError(f"no images under '{root}/train/<class>/'; expected files like train/cat/0001.jpg")
    test_classes = {cls for split, cls, _ in files if split == "test"}
    if not test_classes:
        raise SmateError(f"no images under '{root}/test/<class>/'; the test split is needed to score every method")
    lacking = sorted(set(classes) - test_classes)
    if lacking:
        raise SmateError(f"the test split of '{root}' lacks class '{lacking[0]}'; add test/{lacking[0]}/ images or drop the class from train/")
    extra = sorted(test_classes - set(classes))
    if extra:
        raise SmateError(f"the test split of '{root}' has class '{extra[0]}' that train/ lacks; add train/{extra[0]}/ or remove it")
    chosen = _choose_files(files, classes, limits)
    blobs = _read_files(root, chosen)
    # Hash split/class/file names, not archive paths, so a folder and its zip get one checksum.
    digest = hashlib.sha256()
    for name, blob in zip(chosen, blobs):
        digest.update("/".join(PurePosixPath(name).parts[-3:]).encode() + b"\0")
        digest.update(blob)
    images = _decode_all(chosen, blobs, root, progress)
    labels = np.array([classes.index(PurePosixPath(name).parts[-2]) for name in chosen], dtype=np.int64)
    is_train = np.array([PurePosixPath(name).parts[-3] == "train" for name in chosen])
    return Dataset(
        images[is_train], labels[is_train], images[~is_train], labels[~is_train], classes=classes,
        source={"kind": "imagefolder", "root": str(root), "sha256": digest.hexdigest()},
    )


def _list_folder(root):
    found = []
    for split in SPLITS:
        for path in sorted((root / split).glob("*/*")) if (root / split).is_dir() else []:
            if path.suffix.lower() in IMAGE_SUFFIXES:
                found.append((split, path.parent.name, path.relative_to(root).as_posix()))
    return found


def _list_zip(root):
    try:
        with zipfile.ZipFile(root) as archive:
            names = sorted(n for n in archive.namelist() if not n.endswith("/"))
    except (zipfile.BadZipFile, OSError) as err:
        raise SmateError(f"'{root}' is not a readable .zip ({err}); re-create it or unpack it and point data.root at the folder") from None
    prefix = _zip_prefix(names)
    found = []
    for name in names:
        parts = PurePosixPath(name[len(prefix):]).parts
        if len(parts) == 3 and parts[0] in SPLITS and PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES:
            found.append((parts[0], parts[1], name))
    return found


def _zip_prefix(names):
    """Zips often wrap everything in one top folder (data.zip -> cifar10/train/...); find it."""
    for name in names:
        parts = PurePosixPath(name).parts
        if "train" in parts:
            return "/".join(parts[: parts.index("train")]) + ("/" if parts.index("train") else "")
    return ""


def _read_files(root, names):
    if root.suffix != ".zip":
        return [(root / name).read_bytes() for name in names]
    with zipfile.ZipFile(root) as archive:
        return [archive.read(name) for name in names]


def _choose_files(files, classes, limits):
    """Per split and class, the first `limit` files in sorted order, so subsets are the same everywhere."""
    grouped = {}
    for split, cls, name in files:
        grouped.setdefault((split, cls), []).append(name)
    chosen = []
    for split in SPLITS:
        for cls in classes:
            names = sorted(grouped.get((split, cls), []))
            chosen.extend(names[: limits[split]] if limits[split] else names)
    return chosen


def _decode_all(names, blobs, root, progress):
    from tqdm import tqdm

    bar = dict(total=len(blobs), desc="decode images", unit="img", disable=not progress)
    # PIL holds the GIL while decoding, so only processes decode in parallel; small sets skip the start-up cost.
    if len(blobs) < 4096 or (os.cpu_count() or 1) == 1:
        decoded = [_decode(blob) for blob in tqdm(blobs, **bar)]
    else:
        with ProcessPoolExecutor() as pool:
            decoded = list(tqdm(pool.map(_decode, blobs, chunksize=512), **bar))
    for name, image in zip(names, decoded):
        if image is None:
            raise SmateError(f"cannot decode image '{root}/{name}'; remove or replace the corrupt file")
    first = decoded[0].shape
    for name, image in zip(names, decoded):
        if image.shape != first:
            raise SmateError(
                f"images differ in size: '{root}/{name}' is {image.shape[1]}x{image.shape[0]}, "
                f"'{root}/{names[0]}' is {first[1]}x{first[0]}; resize the dataset to one size first"
            )
    return np.stack(decoded)


def _decode(blob):
    try:
        with Image.open(io.BytesIO(blob)) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def _check_consistent(dataset):
    for split in SPLITS:
        images = getattr(dataset, f"{split}_images")
        if len(images) == 0:
            raise SmateError(f"the {split} split of '{dataset.source['root']}' has no images")
    if dataset.train_images.shape[1:] != dataset.test_images.shape[1:]:
        raise SmateError(
            f"train images are {dataset.train_images.shape[1:3]} but test images are {dataset.test_images.shape[1:3]}; "
            "resize the dataset to one size first"
        )


def class_ids(classes, names):
    """Map class names to label ids, with a clear error for a name the dataset lacks."""
    ids = []
    for name in names:
        if name not in classes:
            raise SmateError(f"unknown class '{name}' in data.minority; this dataset's classes are: {', '.join(classes)}")
        ids.append(classes.index(name))
    return ids


PROFILES = ("minority", "exp", "step")


def profile_counts(counts, profile, minority_ids=(), ratio=1.0, imbalance_factor=1.0):
    """{class id: images kept} for each class the profile cuts, from the train set's per-class counts.

    minority: the minority classes cut to `ratio` of their images. exp: CIFAR-10-LT's profile (Cao et
    al. 2019), n_i = n_max * IF^(-i / (C - 1)) over the classes in index order. step: the second half of
    the classes (index C // 2 on) cut to n_max / IF. Targets round down as the field's code does; a class
    with fewer images than its target keeps them all.
    """
    if profile == "minority":
        return {c: max(1, round(ratio * counts[c])) for c in sorted(minority_ids)}
    n_max, n_classes = max(counts), len(counts)
    if profile == "exp":
        targets = [int(n_max * imbalance_factor ** (-i / max(1, n_classes - 1))) for i in range(n_classes)]
    elif profile == "step":
        targets = [n_max if i < n_classes // 2 else int(n_max / imbalance_factor) for i in range(n_classes)]
    else:
        raise SmateError(f"unknown data.profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    return {c: min(target, counts[c]) for c, target in enumerate(targets) if target < counts[c]}


def make_imbalanced(labels, minority_ids, ratio, seed, profile="minority", imbalance_factor=1.0, classes=None):
    """Indices of the train set kept when the classes are cut as `profile` says (see profile_counts).

    Uses numpy's PCG64 generator, whose stream is the same on every platform, so the same
    (labels, profile and its parameters, seed) give the same indices anywhere.
    """
    if not 0 < ratio <= 1:
        raise SmateError(f"data.ratio must be in (0, 1], got {ratio}")
    counts = np.bincount(labels).tolist()
    cuts = profile_counts(counts, profile, minority_ids, ratio, imbalance_factor)
    empty = [c for c, n_keep in cuts.items() if n_keep < 1]
    if empty:
        name = classes[empty[0]] if classes else f"class {empty[0]}"
        raise SmateError(f"data.profile {profile} with data.imbalance_factor {imbalance_factor} leaves {name} no image "
                         f"of its {counts[empty[0]]}; lower the factor to at most {max(counts)} or use more images a class")
    rng = np.random.default_rng(seed)
    keep = np.ones(len(labels), dtype=bool)
    for class_id, n_keep in sorted(cuts.items()):
        members = np.flatnonzero(labels == class_id)
        dropped = np.setdiff1d(members, rng.choice(members, size=n_keep, replace=False))
        keep[dropped] = False
    return np.flatnonzero(keep)


def class_counts(labels, classes):
    counts = np.bincount(labels, minlength=len(classes))
    return {name: int(n) for name, n in zip(classes, counts)}
