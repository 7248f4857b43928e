"""The imbalanced split: which classes are the minority, and which train images each class keeps under a profile."""

import hashlib

import numpy as np

from ..errors import SmateError

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


def split_digest(kept):
    """sha256 of the kept train indices (as little-endian int64): which images a run trained on, comparable
    across runs, machines and commits."""
    return hashlib.sha256(np.asarray(kept, dtype="<i8").tobytes()).hexdigest()


def class_counts(labels, classes):
    counts = np.bincount(labels, minlength=len(classes))
    return {name: int(n) for name, n in zip(classes, counts)}
