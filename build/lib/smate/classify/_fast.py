"""The `fast` classifier: an airbench94-style CIFAR net and its training recipe.

The architecture and hyperparameters follow Keller Jordan's airbench94 (a frozen patch-whitening
conv, three conv blocks with BatchNorm and GELU, Nesterov SGD with a triangular schedule,
label smoothing, Lookahead-style weight averaging and flip/shift test-time augmentation),
written here as a module of this suite so that it takes class weights and any class count.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._recipe import Recipe

WHITEN_PATCH = 2
WHITEN_SAMPLES = 5000


class _Conv(nn.Conv2d):
    def __init__(self, channels_in, channels_out):
        super().__init__(channels_in, channels_out, kernel_size=3, padding="same", bias=False)

    def reset_parameters(self):
        super().reset_parameters()
        # Identity-initialising the first channels lets the signal pass through early in training.
        nn.init.dirac_(self.weight.data[: self.in_channels])


class _BatchNorm(nn.BatchNorm2d):
    def __init__(self, channels, momentum):
        super().__init__(channels, momentum=1 - momentum, eps=1e-12)
        self.weight.requires_grad = False  # a fixed unit scale; only the bias learns


class _Block(nn.Sequential):
    def __init__(self, channels_in, channels_out, bn_momentum):
        super().__init__(
            _Conv(channels_in, channels_out), nn.MaxPool2d(2), _BatchNorm(channels_out, bn_momentum), nn.GELU(),
            _Conv(channels_out, channels_out), _BatchNorm(channels_out, bn_momentum), nn.GELU(),
        )


class FastNet(nn.Module):
    def __init__(self, num_classes, widths=(64, 256, 256), bn_momentum=0.6, logit_divisor=9.0, in_channels=3):
        super().__init__()
        whiten_width = 2 * in_channels * WHITEN_PATCH**2
        self.whiten = nn.Conv2d(in_channels, whiten_width, kernel_size=WHITEN_PATCH, padding=0, bias=True)
        self.whiten.weight.requires_grad = False
        blocks, channels = [], whiten_width
        for width in widths:
            blocks.append(_Block(channels, width, bn_momentum))
            channels = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(channels, num_classes, bias=False)
        self.logit_divisor = logit_divisor

    def features(self, x):
        x = F.gelu(self.whiten(x))
        x = self.blocks(x)
        return F.adaptive_max_pool2d(x, 1).flatten(1)

    def forward(self, x):
        return self.head(self.features(x)) / self.logit_divisor

    @torch.no_grad()
    def init_whitening(self, images, eps=5e-4):
        """Set the first conv to whiten 2x2 patches: the eigenvectors of their covariance, +/-."""
        patches = images.float().unfold(2, WHITEN_PATCH, 1).unfold(3, WHITEN_PATCH, 1)
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, self.whiten.weight[0].numel())
        patches = patches - patches.mean(0)
        covariance = patches.T @ patches / len(patches)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
        filters = (eigenvectors.T / torch.sqrt(eigenvalues + eps)[:, None]).reshape(-1, *self.whiten.weight.shape[1:])
        self.whiten.weight.copy_(torch.cat([filters, -filters]))


class FastRecipe(Recipe):
    sum_loss = True

    def min_side(self):
        # The unpadded 2x2 whitening takes a pixel off, and each block halves what is left.
        return WHITEN_PATCH - 1 + 2 ** len(self.params["widths"])

    def build(self, train_x):
        p = self.params
        model = FastNet(self.num_classes, tuple(p["widths"]), p["batchnorm_momentum"], p["logit_divisor"],
                        in_channels=train_x.shape[1])
        model.init_whitening(train_x[:WHITEN_SAMPLES])
        return model

    def configure(self, model, total_steps, steps_per_epoch):
        p = self.params
        # airbench's scaling: the loss is a sum over the batch, so rates are per example.
        kilostep_scale = 1024 * (1 + 1 / (1 - p["momentum"]))
        lr = p["lr"] / kilostep_scale
        weight_decay = p["weight_decay"] * p["batch_size"] / kilostep_scale
        lr_bias = lr * p["bias_scaler"]
        norm_biases = [q for name, q in model.blocks.named_parameters() if name.endswith("bias")]
        others = [q for q in model.blocks.parameters() if q.ndim > 1] + [model.head.weight]
        groups = [
            dict(params=[model.whiten.bias], lr=lr_bias, weight_decay=weight_decay / lr_bias),
            dict(params=norm_biases, lr=lr_bias, weight_decay=weight_decay / lr_bias),
            dict(params=others, lr=lr, weight_decay=weight_decay / lr),
        ]
        self.optimizer = torch.optim.SGD(groups, momentum=p["momentum"], nesterov=True)
        for group in self.optimizer.param_groups:
            group["base_lr"] = group["lr"]
        self.total_steps = total_steps
        self.whiten_bias_steps = p["whiten_bias_epochs"] * steps_per_epoch
        self.average = _Lookahead(model) if p["lookahead"] else None
        self.model = model
        self._set_lr(0)

    def _lr_factor(self, step):
        p = self.params
        warmup = max(1, int(self.total_steps * p["warmup_fraction"]))
        if step < warmup:
            return 0.2 + 0.8 * step / warmup
        frac = (step - warmup) / max(1, self.total_steps - warmup)
        return 1.0 + (p["final_lr_factor"] - 1.0) * frac

    def _set_lr(self, step):
        factor = self._lr_factor(step)
        for index, group in enumerate(self.optimizer.param_groups):
            frozen = index == 0 and step >= self.whiten_bias_steps
            group["lr"] = 0.0 if frozen else group["base_lr"] * factor

    def after_step(self, step):
        self._set_lr(step + 1)
        if self.average is not None and (step + 1) % 5 == 0:
            self.average.update(self.model, decay=0.95**5 * ((step + 1) / self.total_steps) ** 3)

    def finish(self):
        if self.average is not None:
            self.average.update(self.model, decay=1.0)

    def predict(self, model, x):
        if not self.params["tta"]:
            return model(x)
        # Flip and one-pixel shifts, weighted as in airbench94's test-time augmentation.
        def mirrored(batch):
            return 0.5 * (model(batch) + model(batch.flip(-1)))

        padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
        height, width = x.shape[-2:]
        shifted = [padded[..., :height, :width], padded[..., 2:, 2:]]
        return 0.5 * mirrored(x) + 0.25 * sum(mirrored(s) for s in shifted)


class _Lookahead:
    """Keeps a slow copy of the weights and pulls the model back to it every few steps."""

    def __init__(self, model):
        self.slow = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, model, decay):
        state = model.state_dict()
        for key, slow in self.slow.items():
            slow.lerp_(state[key], 1 - decay)
            state[key].copy_(slow)
