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

    def _fit_resample(self, X, y):
        shape = X.shape[1:]
        # float32, because imbalanced-learn interpolates in the input dtype and uint8 would wrap around.
        flat = X.reshape(len(X), -1).astype(np.float32)
        try:
            X_res, y_res = self._make_sampler().fit_resample(flat, y)
        except ValueError as err:  # raised by scikit-learn when a class has fewer images than neighbours
            smallest = int(np.bincount(y)[np.bincount(y) > 0].min())
            raise SmateError(
                f"{self.name} failed ({err}); the smallest class has {smallest} images: "
                f"lower rebalance.{self.name}.{self.neighbors_param} below that, or raise data.ratio"
            ) from None
        except RuntimeError as err:  # ADASYN, when no minority image has another class among its neighbours
            raise SmateError(f"{self.name} failed ({err}); use another method for this dataset, e.g. smote") from None
        images = np.clip(np.rint(X_res), 0, 255).astype(np.uint8).reshape(-1, *shape)
        return images, np.asarray(y_res, dtype=y.dtype)


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

    def _make_sampler(self):
        from imblearn.over_sampling import ADASYN

        return ADASYN(n_neighbors=self.n_neighbors, random_state=self.seed)
