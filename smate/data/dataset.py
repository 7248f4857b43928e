"""Load an image dataset into uint8 (N, H, W, C) arrays, and cut classes to make it imbalanced.

Sources (data.source, or found from data.root): torchvision's CIFAR-10; an ImageFolder, a folder or .zip
with train/<class>/ and test/<class>/, or with <class>/ alone, which gets a seeded stratified test split;
a CSV of `path` and `label` (and optionally `split`) columns, paths relative to the CSV.
"""

import csv
import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import SmateError
from .images import Policy, convert_arrays, decode_files

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")
SPLITS = ("train", "test")
SOURCES = ("auto", "cifar10", "imagefolder", "csv")
CIFAR_DIR = "cifar-10-batches-py"


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


def load_dataset(source, root, max_train_per_class=None, max_test_per_class=None, progress=False, policy=Policy(),
                 test_fraction=0.2, test_seed=0):
    """Load `root` as `source` ('auto' finds it) under the image `policy` (smate/images.py)."""
    root = Path(root)
    source = detect_source(root) if source == "auto" else source
    limits = {"train": max_train_per_class, "test": max_test_per_class}
    if source == "cifar10":
        dataset = _load_cifar10(root, limits, policy)
    else:
        dataset = _load_files(source, root, limits, progress, policy, test_fraction, test_seed)
    _check_consistent(dataset)
    return dataset


def load_from_params(data, progress=False):
    """load_dataset with the data params."""
    return load_dataset(data["source"], data["root"], data["max_train_per_class"], data["max_test_per_class"], progress,
                        Policy.from_params(data), data["test_fraction"], data["test_seed"])


def detect_source(root):
    if root.suffix.lower() == ".csv":
        return "csv"
    if root.suffix.lower() == ".zip" or (root / "train").is_dir():
        return "imagefolder"
    if root.is_dir() and not (root / CIFAR_DIR).is_dir() and any(_images_in(sub) for sub in root.iterdir() if sub.is_dir()):
        return "imagefolder"
    return "cifar10"


def _images_in(folder):
    return any(path.suffix.lower() in IMAGE_SUFFIXES for path in folder.iterdir())


def _load_cifar10(root, limits, policy):
    import torchvision

    batches = root / CIFAR_DIR
    if not batches.is_dir():
        try:
            torchvision.datasets.CIFAR10(root, train=True, download=True)
        except Exception as err:
            raise SmateError(
                f"CIFAR-10 is not in '{root}' and could not be downloaded ({type(err).__name__}: {err}); "
                "point data.root at a local copy: a folder holding cifar-10-batches-py, an ImageFolder "
                "folder or .zip (train/<class>/ and test/<class>/, or <class>/ alone) or a CSV (--set data.root=PATH)"
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
        arrays[split] = (convert_arrays(np.ascontiguousarray(part.data[keep]), policy), labels[keep])
    return Dataset(
        *arrays["train"], *arrays["test"], classes=list(parts["train"].classes),
        source={"kind": "cifar10", "root": str(root), "layout": "cifar-10-batches-py", "sha256": digest.hexdigest()},
    )


def _first_per_class(labels, limit):
    if limit is None:
        return np.arange(len(labels))
    keep = np.concatenate([np.flatnonzero(labels == c)[:limit] for c in np.unique(labels)])
    return np.sort(keep)


def _load_files(source, root, limits, progress, policy, test_fraction, test_seed):
    if not root.exists():
        raise SmateError(f"data.root '{root}' does not exist; point it at an image folder or .zip, or a CSV of path,label")
    if source == "csv":
        base, entries, layout = root.parent, _list_csv(root), "csv"
    else:
        base = root
        entries = _list_zip(root) if root.suffix.lower() == ".zip" else _list_folder(root)
        layout = "train/test" if any(e.split for e in entries) else "classes"
    if not entries:
        raise SmateError(f"no images found in '{root}'; expected train/<class>/<image> and test/<class>/<image>, "
                         "<class>/<image>, or a CSV with path and label columns")
    drawn = not any(e.split for e in entries)
    if drawn:
        entries = draw_test_split(entries, test_fraction, test_seed, root)
    elif source == "csv" and not all(e.split for e in entries):
        raise SmateError(f"'{root}': some rows have a split and some do not; give every row train or test, or none")
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


def _list_folder(root):
    """train/<class>/<file> and test/<class>/<file> entries, or <class>/<file> ones with no split."""
    split_layout = any((root / split).is_dir() for split in SPLITS)
    pattern = [(split, root / split) for split in SPLITS if (root / split).is_dir()] if split_layout else [(None, root)]
    found = []
    for split, folder in pattern:
        for path in sorted(folder.glob("*/*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.parent.name != CIFAR_DIR:
                found.append(Entry(split, path.parent.name, path.relative_to(root).as_posix()))
    return found


def _list_zip(root):
    try:
        with zipfile.ZipFile(root) as archive:
            names = sorted(n for n in archive.namelist() if not n.endswith("/"))
    except (zipfile.BadZipFile, OSError) as err:
        raise SmateError(f"'{root}' is not a readable .zip ({err}); re-create it or unpack it and point data.root at the folder") from None
    names = [n for n in names if PurePosixPath(n).suffix.lower() in IMAGE_SUFFIXES and "__MACOSX" not in n]
    prefix = _zip_prefix(names)
    found = []
    for name in names:
        parts = PurePosixPath(name[len(prefix or ""):]).parts
        if prefix is not None and len(parts) == 3 and parts[0] in SPLITS:
            found.append(Entry(parts[0], parts[1], name))
        elif prefix is None and len(parts) >= 2:
            found.append(Entry(None, parts[-2], name))
    return found


def _zip_prefix(names):
    """Zips often wrap everything in one top folder (data.zip -> cifar10/train/...); find it, or None
    when the zip has no train/ folder (<class>/<file> with no split)."""
    for name in names:
        parts = PurePosixPath(name).parts
        if "train" in parts[:-2]:
            return "/".join(parts[: parts.index("train")]) + ("/" if parts.index("train") else "")
    return None


def _list_csv(path):
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise SmateError(f"cannot read the CSV '{path}' ({err}); save it as UTF-8 text with a header row") from None
    header = set(rows[0]) if rows else set()
    if not {"path", "label"} <= header:
        raise SmateError(f"the CSV '{path}' needs 'path' and 'label' columns (and optionally 'split'); it has: "
                         f"{', '.join(sorted(h for h in header if h)) or 'no header'}")
    entries = []
    for number, row in enumerate(rows, start=2):
        split = (row.get("split") or "").strip().lower() or None
        if split not in (None, *SPLITS):
            raise SmateError(f"'{path}' line {number}: split {row['split']!r} must be train, test or empty")
        name, label = (row["path"] or "").strip(), (row["label"] or "").strip()
        if not name or not label:
            raise SmateError(f"'{path}' line {number}: path and label must both be given")
        if not (path.parent / name).is_file():
            raise SmateError(f"'{path}' line {number}: no image at '{path.parent / name}'; paths are relative to the CSV")
        entries.append(Entry(split, label, name))
    return entries


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


def _check_consistent(dataset):
    for split in SPLITS:
        images = getattr(dataset, f"{split}_images")
        if len(images) == 0:
            raise SmateError(f"the {split} split of '{dataset.source['root']}' has no images")


AUTO_MINORITY_SHARE = 0.2


def minority_ids_of(classes, labels, names):
    """The label ids of data.minority's classes; for ['auto'], those with fewer train images than a fifth of
    the largest class (at least the smallest one)."""
    if names != ["auto"]:
        return class_ids(classes, names)
    counts = np.bincount(labels, minlength=len(classes))
    small = [c for c in range(len(classes)) if counts[c] < AUTO_MINORITY_SHARE * counts.max()]
    return small or [int(np.argmin(counts))]


def class_ids(classes, names):
    """Map class names to label ids, with a clear error for a name the dataset lacks."""
    ids = []
    for name in names:
        if name not in classes:
            raise SmateError(f"unknown class '{name}' in data.minority; this dataset's classes are: {', '.join(classes)}")
        ids.append(classes.index(name))
    return ids


PROFILES = ("minority", "exp", "step", "as_is")


def profile_counts(counts, profile, minority_ids=(), ratio=1.0, imbalance_factor=1.0):
    """{class id: images kept} for each class the profile cuts, from the train set's per-class counts.

    minority: the minority classes cut to `ratio` of their images. as_is: no cut. exp: CIFAR-10-LT's profile (Cao et
    al. 2019), n_i = n_max * IF^(-i / (C - 1)) over the classes in index order. step: the second half of
    the classes (index C // 2 on) cut to n_max / IF. Targets round down as the field's code does; a class
    with fewer images than its target keeps them all.
    """
    if profile == "minority":
        return {c: max(1, round(ratio * counts[c])) for c in sorted(minority_ids)}
    if profile == "as_is":
        return {}
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
