"""Batched augmentation on the device: whole chunks of images in a few tensor ops, no per-image Python."""

import kornia.augmentation as K
import torch
import torch.nn.functional as F


def random_translate(images, max_shift):
    """Shift each image by up to `max_shift` pixels in x and y, filling the border by reflection.

    kornia's RandomCrop(padding=..., padding_mode="reflect") does the same, but its default
    "slice" mode crops image by image in a Python loop and its "resample" mode runs grid_sample:
    on 8,192 CIFAR images on our 2-core CPU it took 820 ms (slice) and 1,036 ms (resample)
    against about 280 ms for these two gathers.
    """
    if max_shift == 0:
        return images
    n, channels, height, width = images.shape
    padded = F.pad(images, (max_shift,) * 4, mode="reflect")
    span = 2 * max_shift + 1
    dy = torch.randint(0, span, (n,), device=images.device)
    dx = torch.randint(0, span, (n,), device=images.device)
    rows = (dy[:, None] + torch.arange(height, device=images.device))[:, None, :, None]
    padded = padded.gather(2, rows.expand(-1, channels, -1, width + 2 * max_shift))
    cols = (dx[:, None] + torch.arange(width, device=images.device))[:, None, None, :]
    return padded.gather(3, cols.expand(-1, channels, height, -1))


class ClassifierAugment(torch.nn.Module):
    """Random horizontal flip (kornia) and a random reflect-padded shift, on float NCHW batches."""

    def __init__(self, flip=True, translate=2):
        super().__init__()
        self.flip = K.RandomHorizontalFlip() if flip else torch.nn.Identity()
        self.translate = translate

    @torch.no_grad()
    def forward(self, images):
        return random_translate(self.flip(images), self.translate)


def augment_in_chunks(augment, images, chunk=8192):
    """Augment a whole dataset tensor a chunk at a time, bounding peak memory."""
    return torch.cat([augment(part) for part in images.split(chunk)])
