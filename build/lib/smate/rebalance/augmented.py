"""Oversampling with augmented copies: SMate's augmentation without its GAN, an ablation."""

import numpy as np
from ._base import Rebalancer, register


@register("augment_oversample")
class AugmentOversample(Rebalancer):
    """Each smaller class topped up to the largest count with kornia-augmented copies of its images
    (the paper's imgaug list: flip, crop, blur, contrast, noise, multiply, affine)."""

    kind = "over"
    random = True

    def _fit_resample(self, X, y):
        from ..data.augment import augment_to

        counts = np.bincount(y)
        target = counts.max()
        images, labels = [X], [y]
        for class_id in np.flatnonzero((counts > 0) & (counts < target)):
            members = X[y == class_id]
            # Seeded per class, so adding a class does not change the copies of another.
            grown = augment_to(members, int(target), seed=self.seed * 1000 + int(class_id))
            images.append(grown[len(members):])
            labels.append(np.full(len(grown) - len(members), class_id, dtype=y.dtype))
        return np.concatenate(images), np.concatenate(labels)
