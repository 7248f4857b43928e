"""The long-tail losses the field adopted after the paper, as functions of logits, labels and the train
set's class counts: they rebalance through the loss or the logits instead of the train set.

Each loss returns one value per example (like cross-entropy with reduction='none'), so the shared
trainer's mean and class weights apply to it as they do to cross-entropy. The methods of
`smate/rebalance/loss_based.py` hand them to the trainer as an `Objective`.
"""

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .head import last_linear


@dataclass
class Objective:
    """What a method changes in training besides the train set; each field left None keeps the recipe's own."""

    loss: Callable = None  # (logits, labels, progress: the fraction of optimizer steps done) -> per-example losses
    prepare: Callable = None  # (model) -> None: changes the freshly built model before its optimizer is made
    adjust: Callable = None  # (logits) -> logits: how the test-time logits are read


class NormedLinear(nn.Module):
    """The cosine classifier LDAM assumes (Cao et al.'s reference code): logits are cosines between
    normalised features and normalised class weights, so a fixed scale sets their range."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-1, 1))

    def forward(self, x):
        return F.normalize(x.float(), dim=1) @ F.normalize(self.weight.float(), dim=1).t()


def use_cosine_classifier(model):
    """Replace the model's last Linear layer with a NormedLinear of the same shape."""
    parent, name, layer = last_linear(model)
    setattr(parent, name, NormedLinear(layer.in_features, layer.out_features))
    if hasattr(model, "logit_divisor"):
        model.logit_divisor = 1.0  # the fast net shrinks its logits; cosines are already bounded and LDAM's scale sets their range


def effective_number_weights(counts, beta):
    """Cui et al. (CVPR 2019): class weights (1 - beta) / (1 - beta^n_c), scaled to sum to the number of classes."""
    counts = torch.as_tensor(counts, dtype=torch.float64).clamp_min(1)  # an absent class would divide by zero
    weights = (1 - beta) / (1 - beta ** counts)
    return (weights * len(weights) / weights.sum()).float()


def deferred_weights(counts, beta, epoch, start_epoch):
    """Cao et al.'s deferred re-weighting (DRW): no weights before `start_epoch`, the effective-number weights after."""
    if epoch < start_epoch:
        return torch.ones(len(counts))
    return effective_number_weights(counts, beta)


def cross_entropy(logits, labels):
    """Plain cross-entropy per example, without the recipe's label smoothing."""
    return F.cross_entropy(logits.float(), labels, reduction="none")


def weighted_as_their_mean(per_example, weights):
    """Per-example losses whose mean is the weighted mean sum(w * l) / sum(w), as cross_entropy(weight=...)
    reduces (Cao et al.'s reference code), where a plain mean of w * l would divide by the batch size."""
    return per_example * weights * (len(weights) / weights.sum())


def focal_loss(logits, labels, gamma):
    """Lin et al. (ICCV 2017): -(1 - p_t)^gamma log p_t, which gamma 0 turns into cross-entropy."""
    log_p = F.log_softmax(logits.float(), dim=1).gather(1, labels[:, None]).squeeze(1)
    return -((1 - log_p.exp()) ** gamma) * log_p


def ldam_margins(counts, max_margin):
    """Cao et al. (NeurIPS 2019): per-class margins proportional to n_c^(-1/4), the largest being `max_margin`."""
    margins = torch.as_tensor(counts, dtype=torch.float64).clamp_min(1) ** -0.25
    return (margins * max_margin / margins.max()).float()


def ldam_loss(logits, labels, margins, scale):
    """LDAM: cross-entropy of `scale` times the logits, the true class's logit lowered by its class's margin."""
    true_class = F.one_hot(labels, logits.shape[1]).float()
    shifted = logits.float() - true_class * margins.to(logits.device)[labels][:, None]
    return F.cross_entropy(scale * shifted, labels, reduction="none")


def log_prior(counts):
    """log of each class's share of the train set."""
    counts = torch.as_tensor(counts, dtype=torch.float64)
    return (counts / counts.sum()).clamp_min(1e-12).log().float()


def logit_adjusted_loss(logits, labels, prior, tau):
    """Menon et al. (ICLR 2021): cross-entropy of the logits plus tau times the log prior."""
    return F.cross_entropy(logits.float() + tau * prior.to(logits.device), labels, reduction="none")


def posthoc_logit_adjustment(logits, prior, tau):
    """Menon et al.'s post-hoc variant: a plain model's test-time logits minus tau times the log prior."""
    return logits - tau * prior.to(logits.device)


def balanced_softmax_loss(logits, labels, prior):
    """Ren et al. (NeurIPS 2020): softmax with each class's exp scaled by its count, i.e. logits plus log prior."""
    return logit_adjusted_loss(logits, labels, prior, 1.0)
