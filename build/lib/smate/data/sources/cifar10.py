"""torchvision's CIFAR-10: its python batches in `root`, downloaded there when absent."""

import hashlib

import numpy as np

from ...errors import SmateError
from ..dataset import SPLITS, Dataset
from ..images import convert_arrays
from . import Source, register

CIFAR_DIR = "cifar-10-batches-py"


@register("cifar10")
class CIFAR10(Source):
    fallback = True

    def claims(self, root):
        return (root / CIFAR_DIR).is_dir()

    def load(self, root, limits, progress, policy, test_fraction, test_seed):
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
            source={"kind": "cifar10", "root": str(root), "layout": CIFAR_DIR, "sha256": digest.hexdigest()},
        )


def _first_per_class(labels, limit):
    if limit is None:
        return np.arange(len(labels))
    keep = np.concatenate([np.flatnonzero(labels == c)[:limit] for c in np.unique(labels)])
    return np.sort(keep)
