"""The long-tail losses the field adopted after the paper, as functions of logits, labels and the train
set's class counts: they rebalance through the loss or the logits instead of the train set.

Each loss returns one value per example (like cross-entropy with reduction='none'), so the shared
trainer's mean and class weights apply to it as they do to cross-entropy. They are not yet methods
that `run` can name: the trainer's loss hook and their rebalancers come next.
"""

import torch
import torch.nn.functional as F


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
