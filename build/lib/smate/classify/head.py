"""A trained classifier's last layer, apart from its backbone: the decoupled methods (Kang et al., ICLR 2020)
re-train or rescale it on the backbone's frozen features (the model's `features(x)`, the last layer's input)."""

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def last_linear(model):
    """(parent module, attribute name, layer) of the model's last Linear layer, in the order its modules were
    registered (the classifiers register their last layer last)."""
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not names:
        raise ValueError(f"{type(model).__name__} has no Linear layer")
    parent, _, name = names[-1].rpartition(".")
    return model.get_submodule(parent), name, model.get_submodule(names[-1])


def with_head(model, head):
    """A copy of `model` whose last Linear layer is `head`; the original is left as it is."""
    model = copy.deepcopy(model)
    parent, name, _ = last_linear(model)
    setattr(parent, name, copy.deepcopy(head).to(next(model.parameters()).device))
    return model.eval()


def logit_scale(model):
    """What the model divides its last layer's output by (the fast net shrinks its logits), so that a head
    trained on features sees the logits the model will give."""
    return getattr(model, "logit_divisor", 1.0)


def retrain_head(like, features, labels, *, balanced, epochs, lr, batch_size, seed, scale=1.0):
    """A new layer shaped as `like` (weights drawn afresh, as cRT re-initialises it), trained with Adam on
    frozen float features: each epoch draws len(features) examples, each class equally often when
    `balanced` (class-balanced sampling), else each example once."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    head = nn.Linear(like.in_features, like.out_features, bias=like.bias is not None)
    x = torch.as_tensor(np.asarray(features), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    counts = torch.bincount(y, minlength=like.out_features).clamp_min(1).float()
    weights = (1.0 / counts)[y] if balanced else torch.ones(len(y))
    optimizer = torch.optim.Adam(head.parameters(), lr=lr)
    steps = epochs * math.ceil(len(y) / batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(epochs):
        drawn = torch.multinomial(weights, len(y), replacement=balanced, generator=generator)
        for index in drawn.split(batch_size):
            loss = F.cross_entropy(head(x[index]) / scale, y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    return head.eval()


@torch.no_grad()
def tau_normalized(head, tau):
    """Kang et al.'s tau-normalisation: each class's weights divided by their norm to the power tau. Their layer
    has no bias; where ours has one it is divided with its class's weights (the class's logit scaled as a
    whole), since a bias kept as it was carries the train set's prior past the normalisation."""
    head = copy.deepcopy(head)
    scale = head.weight.norm(dim=1).clamp_min(1e-12).pow(tau)
    head.weight.div_(scale[:, None])
    if head.bias is not None:
        head.bias.div_(scale)
    return head
