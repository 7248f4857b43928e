"""SMOTE and ADASYN from imbalanced-learn, on the flattened pixels as in the paper."""

import numpy as np

from ..errors import SmateError
from ._base import Interval, Rebalancer, register


class _PixelOversampler(Rebalancer):
    kind = "synthetic"
    random = True
    neighbors_param = None

    def _make_sampler(self):
        raise NotImplementedError

    def _resample(self, flat, y):
        return self._make_sampler().fit_resample(flat, y)

    def _fit_resample(self, X, y):
        shape = X.shape[1:]
        check_memory(self.name, X, y)
        # float32, because imbalanced-learn interpolates in the input dtype and uint8 would wrap around.
        flat = X.reshape(len(X), -1).astype(np.float32)
        try:
            X_res, y_res = self._resample(flat, y)
        except ValueError as err:  # raised by scikit-learn when a class has fewer images than neighbours
            smallest = int(np.bincount(y)[np.bincount(y) > 0].min())
            raise SmateError(
                f"{self.name} failed ({err}); the smallest class has {smallest} images: "
                f"lower rebalance.{self.name}.{self.neighbors_param} below that, or raise data.ratio"
            ) from None
        images = np.clip(np.rint(X_res), 0, 255).astype(np.uint8).reshape(-1, *shape)
        return images, np.asarray(y_res, dtype=y.dtype)


def memory_needed(X, y):
    """Bytes SMOTE or ADASYN holds at its peak on uint8 images X: the float32 copy it reads, the float32
    set it returns (every class grown to the largest) and the uint8 images made of that."""
    pixels = int(np.prod(X.shape[1:]))
    counts = np.bincount(y)
    balanced = int(counts.max()) * int((counts > 0).sum())
    return len(X) * pixels * 4 + balanced * pixels * (4 + 1)


def available_memory():
    """MemAvailable from /proc/meminfo in bytes, or None where there is none (not Linux)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(name, X, y, available=None):
    """Say what the method will hold in memory, and refuse in one line what would not fit."""
    needed = memory_needed(X, y)
    available = available_memory() if available is None else available
    print(f"{name}: about {needed / 2**30:.2f} GiB for {len(X)} images of {'x'.join(map(str, X.shape[1:]))}")
    if available is not None and needed > available:
        raise SmateError(f"{name} would need about {needed / 2**30:.1f} GiB and {available / 2**30:.1f} GiB is free; "
                         "lower data.image_size or data.max_train_per_class, or use oversample or a loss-based method")


@register("smote")
class Smote(_PixelOversampler):
    """New minority images on the lines between a minority image and its k nearest minority neighbours."""

    neighbors_param = "k_neighbors"
    constraints = {"k_neighbors": Interval(int, 1)}

    def __init__(self, seed=0, k_neighbors=5):
        super().__init__(seed)
        self.k_neighbors = k_neighbors

    def _make_sampler(self):
        from imblearn.over_sampling import SMOTE

        return SMOTE(k_neighbors=self.k_neighbors, random_state=self.seed)


@register("adasyn")
class Adasyn(_PixelOversampler):
    """SMOTE that makes more images near minority images crowded by other classes."""

    neighbors_param = "n_neighbors"
    constraints = {"n_neighbors": Interval(int, 1)}
    exact = False

    def __init__(self, seed=0, n_neighbors=5):
        super().__init__(seed)
        self.n_neighbors = n_neighbors

    def _make_sampler(self, sampling_strategy="auto"):
        from imblearn.over_sampling import ADASYN

        return ADASYN(sampling_strategy=sampling_strategy, n_neighbors=self.n_neighbors, random_state=self.seed)

    def _resample(self, flat, y):
        """Class by class: ADASYN allots a class's images by how many of its images' neighbours are of other
        classes, and makes none (imbalanced-learn refuses the whole call) for a class whose neighbours are
        all its own, as a nearly full class of well separated images is. Such a class is left as it is."""
        counts = np.bincount(y)
        parts_x, parts_y = [flat], [y]
        short = [c for c in np.flatnonzero(counts) if counts[c] < counts.max()]
        for class_id in short:
            try:
                X_res, y_res = self._make_sampler({int(class_id): int(counts.max())}).fit_resample(flat, y)
            except RuntimeError:  # every neighbour of the class's images is of the class
                continue
            except ValueError as err:
                if "No samples will be generated" not in str(err):  # its share of the images rounds to none
                    raise
                continue
            parts_x.append(X_res[len(flat):])
            parts_y.append(y_res[len(flat):])
        if short and len(parts_x) == 1:
            raise SmateError(f"{self.name} makes no image: every image of the classes it would grow has only its own "
                             f"class among its {self.n_neighbors} nearest neighbours; raise rebalance.{self.name}."
                             f"{self.neighbors_param}, or use another method for this dataset, e.g. smote")
        return np.concatenate(parts_x), np.concatenate(parts_y)
