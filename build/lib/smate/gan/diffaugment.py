"""DiffAugment (Zhao et al., NeurIPS 2020): the same random colour, translation and cutout applied to
real and fake images before the discriminator, differentiably, so that a GAN trained on a few hundred
images stops its discriminator from memorising them.

Written here rather than taken from kornia: the paper's ops shift by whole pixels, never clamp, and
let the cut-out square cross the border, while kornia's affine translation resamples, its colour ops
clamp to [0, 1] and its erasing keeps the box inside the image, which changes what D sees.
Images are NCHW in [-1, 1], one draw per image.
"""

import torch
import torch.nn.functional as F

TRANSLATION = 0.125  # the largest shift, as a share of the side
CUTOUT = 0.5  # the cut-out square's side, as a share of the image's


def diff_augment(images):
    """Zhao et al.'s 'color,translation,cutout' policy, the one they use with limited data."""
    return _cutout(_translate(_color(images)))


def _uniform(images):
    return torch.rand(len(images), 1, 1, 1, device=images.device, dtype=images.dtype)


def _color(x):
    x = x + (_uniform(x) - 0.5)  # brightness
    pixel_mean = x.mean(dim=1, keepdim=True)
    x = (x - pixel_mean) * (_uniform(x) * 2) + pixel_mean  # saturation
    image_mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - image_mean) * (_uniform(x) + 0.5) + image_mean  # contrast


def _translate(x):
    """Each image moved by whole pixels, up to TRANSLATION of its side each way, zeros filling the gap."""
    batch, _, height, width = x.shape
    reach_y, reach_x = int(height * TRANSLATION + 0.5), int(width * TRANSLATION + 0.5)
    shift_y = torch.randint(-reach_y, reach_y + 1, (batch, 1, 1), device=x.device)
    shift_x = torch.randint(-reach_x, reach_x + 1, (batch, 1, 1), device=x.device)
    rows = torch.arange(height, device=x.device).view(1, height, 1)
    cols = torch.arange(width, device=x.device).view(1, 1, width)
    # Indices into the image padded by one zero pixel: anything moved in from outside reads the zero.
    source_y = (rows + shift_y + 1).clamp(0, height + 1).expand(batch, height, width)
    source_x = (cols + shift_x + 1).clamp(0, width + 1).expand(batch, height, width)
    padded = F.pad(x, (1, 1, 1, 1))
    batch_index = torch.arange(batch, device=x.device).view(batch, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch_index, source_y, source_x].permute(0, 3, 1, 2)


def _cutout(x):
    """A square of CUTOUT of the side set to zero, centred anywhere on the image (so it may be cut short)."""
    batch, _, height, width = x.shape
    size_y, size_x = int(height * CUTOUT + 0.5), int(width * CUTOUT + 0.5)
    centre_y = torch.randint(0, height + (1 - size_y % 2), (batch, 1, 1), device=x.device)
    centre_x = torch.randint(0, width + (1 - size_x % 2), (batch, 1, 1), device=x.device)
    rows = torch.arange(height, device=x.device).view(1, height, 1)
    cols = torch.arange(width, device=x.device).view(1, 1, width)
    top, left = centre_y - size_y // 2, centre_x - size_x // 2
    inside = (rows >= top) & (rows < top + size_y) & (cols >= left) & (cols < left + size_x)
    return x * (~inside).unsqueeze(1).to(x.dtype)
