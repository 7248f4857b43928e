"""The `resnet18` classifier: torchvision's ResNet-18, from scratch or from ImageNet or a state dict of
one's own, where practitioners start on images of their own. Its stem is adapted for small images."""

import os
from pathlib import Path

import torch
from torch import nn

from ..errors import SmateError
from ._recipe import Recipe

# Below this side the 7x7 stride-2 conv and the max-pool would leave layer4 less than a pixel: the stem
# conv keeps its 7x7 weights (so that pretrained ones load) at stride 1, and the max-pool goes.
SMALL_SIDE = 64
WEIGHTS_FILE = "resnet18-f37072fd.pth"  # the name torchvision stores its ImageNet weights under


class ResNet18(nn.Module):
    """torchvision's resnet18 for `in_channels` and `num_classes`, with `features` (the pooled 512) for the
    feature and guide nets."""

    def __init__(self, num_classes, in_channels=3, image_shape=(32, 32)):
        super().__init__()
        from torchvision.models import resnet18

        self.net = resnet18(num_classes=num_classes)
        small = min(image_shape) < SMALL_SIDE
        self.net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=1 if small else 2, padding=3, bias=False)
        if small:
            self.net.maxpool = nn.Identity()

    def features(self, x):
        net = self.net
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
        return torch.flatten(net.avgpool(x), 1)

    def forward(self, x):
        return self.net.fc(self.features(x))

    def load_backbone(self, state):
        """Load a torchvision resnet18 state dict, all but its classification layer; RGB stem weights are
        summed over the colours for one-channel images (a grey image then excites them as its RGB copy would)."""
        state = {key: value for key, value in state.items() if not key.startswith("fc.")}
        conv = state.get("conv1.weight")
        if conv is not None and conv.shape[1] != self.net.conv1.in_channels:
            if self.net.conv1.in_channels != 1:
                raise SmateError(f"the resnet18 weights take {conv.shape[1]} channels and the images have "
                                 f"{self.net.conv1.in_channels}; set data.channels to {conv.shape[1]}")
            state["conv1.weight"] = conv.sum(1, keepdim=True)
        missing, unexpected = self.net.load_state_dict(state, strict=False)
        if unexpected or [key for key in missing if not key.startswith("fc.")]:
            raise SmateError(f"the resnet18 weights do not fit torchvision's resnet18 (missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]}); give a state dict of torchvision.models.resnet18")


def pretrained_state(weights):
    """The state dict `classify.resnet18.weights` names: None for `none`, torchvision's ImageNet weights for
    `imagenet` (from torch's hub cache, fetched there if they can be), else the state dict at that path."""
    if weights == "none":
        return None
    if weights == "imagenet":
        from torchvision.models import ResNet18_Weights

        try:
            return ResNet18_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
        except OSError as err:  # URLError is an OSError: no network
            cache = Path(torch.hub.get_dir()) / "checkpoints"
            raise SmateError(f"cannot fetch torchvision's ImageNet weights for resnet18 ({err.__class__.__name__}); put "
                             f"{WEIGHTS_FILE} from {ResNet18_Weights.IMAGENET1K_V1.url} in {cache} (TORCH_HOME moves "
                             "it), or set classify.resnet18.weights to a state dict's path") from None
    path = Path(os.path.expanduser(str(weights)))
    if not path.is_file():
        raise SmateError(f"classify.resnet18.weights is {weights!r}: none, imagenet or the path of a state dict, "
                         "and no file is there")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a pickle of objects, a truncated file: torch raises several kinds
        raise SmateError(f"cannot read '{path}' as a state dict of plain tensors ({err.__class__.__name__}); save one "
                         "with torch.save(model.state_dict(), path)") from None
    return state.get("state_dict", state) if isinstance(state, dict) else state


class ResNet18Recipe(Recipe):
    """SGD with Nesterov momentum and a cosine schedule over the run's steps, on standardised pixels with
    the flips and shifts of `flip`, `translate`; the backbone starts from `weights`."""

    def min_side(self):
        return 4  # layer4 keeps a pixel from 4x4 with the small-image stem

    def build(self, train_x):
        model = ResNet18(self.num_classes, train_x.shape[1], tuple(train_x.shape[-2:]))
        state = pretrained_state(self.params["weights"])
        if state is not None:
            model.load_backbone(state)
        return model

    def rebuild(self, image_shape):
        height, width, channels = image_shape
        return ResNet18(self.num_classes, channels, (height, width))

    def configure(self, model, total_steps, steps_per_epoch):
        p = self.params
        self.optimizer = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"], nesterov=True,
                                         weight_decay=p["weight_decay"])
        self.schedule = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, max(1, total_steps))

    def after_step(self, step):
        self.schedule.step()
