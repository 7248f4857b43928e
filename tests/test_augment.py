import torch
import torch.nn.functional as F

from smate.augment import ClassifierAugment, augment_in_chunks, random_translate


def test_translate_is_an_integer_shift_of_the_reflect_padded_image():
    torch.manual_seed(0)
    images = torch.randn(32, 3, 8, 8)
    shifted = random_translate(images, 2)
    padded = F.pad(images, (2, 2, 2, 2), mode="reflect")
    for image, pad in zip(shifted, padded):
        assert any(torch.equal(image, pad[:, dy:dy + 8, dx:dx + 8]) for dy in range(5) for dx in range(5))


def test_translate_uses_every_shift_and_zero_is_identity():
    torch.manual_seed(0)
    images = torch.arange(64.0).view(1, 1, 8, 8).expand(2000, 1, 8, 8).contiguous()
    # Away from the border, the pixel at (4, 4) tells the shift apart: it is original[3 + dy, 3 + dx].
    centres = {image[0, 4, 4].item() for image in random_translate(images, 1)}
    assert centres == {8.0 * row + col for row in (3, 4, 5) for col in (3, 4, 5)}
    assert torch.equal(random_translate(images, 0), images)


def test_augment_flips_about_half_and_keeps_shape_and_dtype():
    torch.manual_seed(0)
    images = torch.randn(4000, 3, 8, 8)
    out = ClassifierAugment(flip=True, translate=0)(images)
    flipped = torch.tensor([torch.equal(o, i.flip(-1)) for o, i in zip(out, images)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, images)])
    assert bool((flipped | kept).all())
    assert 0.45 < flipped.float().mean().item() < 0.55
    assert out.shape == images.shape and out.dtype == images.dtype


def test_augment_in_chunks_covers_every_image():
    images = torch.randn(10, 3, 4, 4)
    assert torch.equal(augment_in_chunks(lambda x: x * 2, images, chunk=3), images * 2)
