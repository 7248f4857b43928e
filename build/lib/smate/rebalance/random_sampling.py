"""Random under- and over-sampling, by imbalanced-learn's samplers on image indices."""

import numpy as np

from ._base import Rebalancer, register


class _IndexSampler(Rebalancer):
    random = True
    def _make_sampler(self):
        raise NotImplementedError

    def _fit_resample(self, X, y):
        # Sampling indices instead of pixels avoids copying every image through the sampler.
        sampler = self._make_sampler()
        sampler.fit_resample(np.arange(len(y)).reshape(-1, 1), y)
        chosen = np.sort(sampler.sample_indices_)
        self.sample_indices_ = chosen
        return X[chosen], y[chosen]


@register("undersample")
class Undersample(_IndexSampler):
    """Every class drawn down, without replacement, to the smallest class's count."""

    kind = "under"

    def _make_sampler(self):
        from imblearn.under_sampling import RandomUnderSampler

        return RandomUnderSampler(random_state=self.seed)


@register("oversample")
class Oversample(_IndexSampler):
    """Every smaller class topped up with random repeats of its own images to the largest count."""

    kind = "over"

    def _make_sampler(self):
        from imblearn.over_sampling import RandomOverSampler

        return RandomOverSampler(random_state=self.seed)
