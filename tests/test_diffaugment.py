"""DiffAugment: each op as Zhao et al. define it, gradients through it, and the GAN step showing D only
augmented images when it is on."""

import torch

from smate.gan import diffaugment
from smate.gan.models import BrownleeDiscriminator, BrownleeGenerator
from smate.gan.losses import GANLoss
from smate.gan.step import gan_step
from smate.gan.train import make_optimizer


def test_translation_moves_each_image_by_whole_pixels_within_an_eighth_of_its_side():
    torch.manual_seed(0)
    images = torch.rand(64, 3, 32, 32) + 1  # no zeros, so a zero is a pixel moved in from outside
    moved = diffaugment._translate(images)
    for original, shifted in zip(images, moved):
        matches = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
                   if torch.equal(shifted, _shift(original, dy, dx))]
        assert len(matches) == 1
    assert not torch.equal(moved, images)


def _shift(image, dy, dx):
    padded = torch.nn.functional.pad(image, (4, 4, 4, 4))
    return padded[:, 4 + dy:36 + dy, 4 + dx:36 + dx]


def test_cutout_zeroes_one_square_of_half_the_side_which_may_cross_the_border():
    torch.manual_seed(0)
    cut = diffaugment._cutout(torch.ones(500, 3, 32, 32))
    zeros = (cut[:, 0] == 0)
    assert torch.equal(zeros, (cut == 0).all(1))  # every channel alike
    rows, cols = zeros.any(2).sum(1), zeros.any(1).sum(1)
    assert torch.equal(zeros.sum((1, 2)), rows * cols)  # one rectangle each
    assert rows.max() == 16 and cols.max() == 16 and rows.min() < 16


def test_colour_moves_brightness_saturation_and_contrast_without_clamping():
    torch.manual_seed(0)
    images = torch.rand(256, 3, 8, 8) * 2 - 1
    changed = diffaugment._color(images)
    assert changed.shape == images.shape and (changed.amax() > 1 or changed.amin() < -1)
    # Brightness alone moves each image's mean by up to 0.5 either way; saturation and contrast keep it.
    shift = changed.mean((1, 2, 3)) - images.mean((1, 2, 3))
    assert shift.abs().max() <= 0.5 and shift.std() > 0.2


def test_the_whole_policy_is_differentiable():
    images = (torch.rand(4, 3, 32, 32) * 2 - 1).requires_grad_(True)
    diffaugment.diff_augment(images).square().sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_with_diffaugment_the_discriminator_sees_only_augmented_images():
    torch.manual_seed(0)
    generator, discriminator = BrownleeGenerator(), BrownleeDiscriminator()
    params = {"optimizer": "adam", "lr": 2e-4, "lr_d": None, "beta1": 0.5, "beta2": 0.999}
    opt_g, opt_d = make_optimizer(params, generator.parameters()), make_optimizer(params, discriminator.parameters())
    calls, inputs = [], []
    discriminator.register_forward_pre_hook(lambda module, args: inputs.append(args[0]))

    def spy(images):
        calls.append(images)
        return diffaugment.diff_augment(images)

    gan_step(generator, discriminator, opt_g, opt_d, GANLoss(), torch.rand(8, 3, 32, 32) * 2 - 1, augment=spy)
    # Real and fake for D's step, then the fakes again for G's, each a fresh draw.
    assert len(calls) == 3 and len(inputs) == 3
    assert all(not torch.equal(seen, given) for seen, given in zip(inputs, calls))
