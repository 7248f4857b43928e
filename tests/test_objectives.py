"""Each long-tail loss against a case small enough to compute by hand."""

import math

import pytest
import torch
import torch.nn.functional as F

from smate.classify import objectives as losses


def test_effective_number_weights_follow_cui_et_al():
    # beta 0.5, counts 1 and 3: raw weights 0.5 / 0.5 = 1 and 0.5 / 0.875 = 4/7, scaled to sum to 2.
    weights = losses.effective_number_weights([1, 3], beta=0.5)
    assert weights.tolist() == pytest.approx([2 / (1 + 4 / 7), 2 * (4 / 7) / (1 + 4 / 7)])
    assert losses.effective_number_weights([5, 5, 0], beta=0.9999).isfinite().all()


def test_deferred_weights_switch_on_at_their_epoch():
    assert losses.deferred_weights([1, 3], 0.5, epoch=4, start_epoch=5).tolist() == [1.0, 1.0]
    assert losses.deferred_weights([1, 3], 0.5, epoch=5, start_epoch=5).tolist() == pytest.approx([14 / 11, 8 / 11])


def test_focal_loss_down_weights_easy_examples():
    logits, label = torch.tensor([[0.0, math.log(3.0)]]), torch.tensor([1])  # p = 0.25, 0.75
    assert losses.focal_loss(logits, label, gamma=2).item() == pytest.approx(0.25 ** 2 * -math.log(0.75))
    assert losses.focal_loss(logits, label, gamma=0).item() == pytest.approx(F.cross_entropy(logits, label).item())


def test_ldam_margins_and_loss():
    margins = losses.ldam_margins([1, 16], max_margin=0.5)  # n^(-1/4): 1 and 0.5
    assert margins.tolist() == pytest.approx([0.5, 0.25])
    # Label 0 loses its margin: logits (1, 1) -> (0.5, 1), times 2 -> (1, 2); loss log(1 + e).
    loss = losses.ldam_loss(torch.tensor([[1.0, 1.0]]), torch.tensor([0]), margins, scale=2.0)
    assert loss.item() == pytest.approx(math.log(1 + math.e))


def test_logit_adjustment_adds_the_log_prior_in_training_and_subtracts_it_after():
    prior = losses.log_prior([1, 3])
    assert prior.tolist() == pytest.approx([math.log(0.25), math.log(0.75)])
    zeros, label = torch.zeros(1, 2), torch.tensor([0])
    assert losses.logit_adjusted_loss(zeros, label, prior, tau=1.0).item() == pytest.approx(math.log(4))
    assert losses.logit_adjusted_loss(zeros, label, prior, tau=0.0).item() == pytest.approx(math.log(2))
    adjusted = losses.posthoc_logit_adjustment(zeros, prior, tau=1.0)
    assert adjusted[0].tolist() == pytest.approx([math.log(4), -math.log(0.75)])
    assert adjusted.argmax().item() == 0  # the rare class wins a tie once the prior is taken out


def test_balanced_softmax_is_the_logit_adjusted_loss_at_tau_one():
    logits, labels = torch.tensor([[0.3, -1.2, 2.0], [1.0, 0.0, -0.5]]), torch.tensor([1, 2])
    prior = losses.log_prior([10, 1, 100])
    assert torch.allclose(losses.balanced_softmax_loss(logits, labels, prior), losses.logit_adjusted_loss(logits, labels, prior, 1.0))
    # By the definition: exp(z_c) * n_c over the sum of the same.
    scaled = torch.tensor([10.0, 1.0, 100.0]) * logits.exp()
    expected = -(scaled.gather(1, labels[:, None]).squeeze(1) / scaled.sum(1)).log()
    assert torch.allclose(losses.balanced_softmax_loss(logits, labels, prior), expected, atol=1e-6)
