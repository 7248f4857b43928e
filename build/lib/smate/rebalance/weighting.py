"""Class weighting: no resampling, the loss weighs each class by its inverse frequency."""

import numpy as np

from ._base import Rebalancer, register


@register("class_weight")
class ClassWeight(Rebalancer):
    """scikit-learn's 'balanced' weights, n_samples / (n_classes * count), for every class id 0..K-1."""

    kind = "weight"

    def _fit_resample(self, X, y):
        from sklearn.utils.class_weight import compute_class_weight

        present = np.unique(y)
        weights = compute_class_weight("balanced", classes=present, y=y)
        self.class_weight_ = np.zeros(int(present.max()) + 1, dtype=np.float64)
        self.class_weight_[present] = weights
        return X, y
