"""The long-tail methods that leave the train set as it is and rebalance through the loss or the
test-time logits (smate/classify/objectives.py holds the losses). Each reads the class counts of the imbalanced
train set it is given; the split keeps every class in it. smate.classify.objectives (torch) is imported where it
is used, so that listing the registry stays quick (see __init__.py)."""

import numpy as np

from ._base import Interval, Rebalancer, register

BETA = Interval(float, 0, 1, "left")  # beta 1 would divide by zero in (1 - beta) / (1 - beta^n)


class _LossBased(Rebalancer):
    kind = "loss"
    def _fit_resample(self, X, y):
        self.objective_ = self._objective(np.bincount(y))
        return X, y

    def _objective(self, counts):
        raise NotImplementedError


@register("class_balanced")
class ClassBalanced(_LossBased):
    """Cui et al. (CVPR 2019): cross-entropy weighted by the inverse effective number of samples."""

    constraints = {"beta": BETA}

    def __init__(self, seed=0, beta=0.9999):
        super().__init__(seed)
        self.beta = beta

    def _objective(self, counts):
        from ..classify import objectives as losses

        self.class_weight_ = losses.effective_number_weights(counts, self.beta).double().numpy()
        # Their loss is plain cross-entropy, as every loss here: the recipe's label smoothing is left out.
        return losses.Objective(loss=lambda logits, labels, progress: losses.cross_entropy(logits, labels))


@register("focal")
class Focal(_LossBased):
    """Lin et al. (ICCV 2017): the focal loss, which down-weighs the examples already classified well."""

    constraints = {"gamma": Interval(float, 0)}

    def __init__(self, seed=0, gamma=2.0):
        super().__init__(seed)
        self.gamma = gamma

    def _objective(self, counts):
        from ..classify import objectives as losses

        return losses.Objective(loss=lambda logits, labels, progress: losses.focal_loss(logits, labels, self.gamma))


@register("ldam_drw")
class LDAMDRW(_LossBased):
    """Cao et al. (NeurIPS 2019): LDAM's per-class margins on a cosine classifier, with the effective-number
    weights switched on after `drw_start` of the optimizer steps (deferred re-weighting)."""

    constraints = {"max_margin": Interval(float, 0, closed="neither"), "scale": Interval(float, 0, closed="neither"),
                   "beta": BETA, "drw_start": Interval(float, 0, 1)}

    def __init__(self, seed=0, max_margin=0.5, scale=30.0, beta=0.9999, drw_start=0.8):
        super().__init__(seed)
        self.max_margin, self.scale, self.beta, self.drw_start = max_margin, scale, beta, drw_start

    def _objective(self, counts):
        from ..classify import objectives as losses

        margins = losses.ldam_margins(counts, self.max_margin)
        weights = losses.effective_number_weights(counts, self.beta)

        def loss(logits, labels, progress):
            per_example = losses.ldam_loss(logits, labels, margins, self.scale)
            if progress < self.drw_start:
                return per_example
            return losses.weighted_as_their_mean(per_example, weights.to(logits.device)[labels])

        return losses.Objective(loss=loss, prepare=losses.use_cosine_classifier)


@register("logit_adjust")
class LogitAdjust(_LossBased):
    """Menon et al. (ICLR 2021): cross-entropy on the logits plus tau times the log prior."""

    constraints = {"tau": Interval(float)}

    def __init__(self, seed=0, tau=1.0):
        super().__init__(seed)
        self.tau = tau

    def _objective(self, counts):
        from ..classify import objectives as losses

        prior = losses.log_prior(counts)
        return losses.Objective(loss=lambda logits, labels, progress: losses.logit_adjusted_loss(logits, labels, prior, self.tau))


@register("logit_adjust_posthoc")
class LogitAdjustPosthoc(_LossBased):
    """Menon et al.'s post-hoc form: the recipe's own training, then tau times the log prior taken off the test logits."""

    constraints = {"tau": Interval(float)}

    def __init__(self, seed=0, tau=1.0):
        super().__init__(seed)
        self.tau = tau

    def _objective(self, counts):
        from ..classify import objectives as losses

        prior = losses.log_prior(counts)
        return losses.Objective(adjust=lambda logits: losses.posthoc_logit_adjustment(logits, prior, self.tau))


@register("balanced_softmax")
class BalancedSoftmax(_LossBased):
    """Ren et al. (NeurIPS 2020): the softmax of the logits plus the log prior in the training loss."""

    def _objective(self, counts):
        from ..classify import objectives as losses

        prior = losses.log_prior(counts)
        return losses.Objective(loss=lambda logits, labels, progress: losses.balanced_softmax_loss(logits, labels, prior))
