"""The two references: the untouched balanced train set, and the imbalanced one left as it is."""

from ._base import Rebalancer, register


@register("imbalanced")
class Imbalanced(Rebalancer):
    """No rebalancing: what a classifier learns from the imbalanced data as given."""

    kind = "reference"

    def _fit_resample(self, X, y):
        return X, y


@register("full")
class Full(Imbalanced):
    """The balanced train set before the minority was cut: the ceiling every method aims at."""

    counts = "whole"

    def _train_set(self, task):
        return task.full_images, task.full_labels
