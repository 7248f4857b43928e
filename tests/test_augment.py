import numpy as np
import torch
import torch.nn.functional as F

from smate.data.augment import ClassifierAugment, augment_in_chunks, augment_to, paper_augmentation, random_translate


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


def test_augment_to_keeps_originals_first_and_is_seeded():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    grown = augment_to(images, 20, seed=1)
    assert grown.shape == (20, 16, 16, 3) and grown.dtype == np.uint8
    np.testing.assert_array_equal(grown[:6], images)
    np.testing.assert_array_equal(grown, augment_to(images, 20, seed=1))
    assert not np.array_equal(grown, augment_to(images, 20, seed=2))
    assert not {i.tobytes() for i in grown[6:]} & {i.tobytes() for i in images}
    np.testing.assert_array_equal(augment_to(images, 4, seed=1), images[:4])


def test_paper_augmentation_has_the_papers_seven_operations():
    names = [type(op).__name__ for op in paper_augmentation().children()]
    assert names == ["RandomHorizontalFlip", "RandomResizedCrop", "RandomGaussianBlur", "ColorJitter",
                     "RandomGaussianNoise", "RandomAffine"]


def test_the_affine_border_is_black_with_the_papers_constant_fill_and_the_image_with_reflect():
    white = np.full((16, 16, 16, 3), 255, dtype=np.uint8)
    constant = augment_to(white, 64, seed=0)[16:]
    reflected = augment_to(white, 64, seed=0, fill="reflect")[16:]
    # The paper's imgaug Affine fills the border it uncovers with black (the black patches in SMate's transfer set).
    assert (constant.min(axis=-1) == 0).mean() > 0.05
    # Reflected, a white image stays light everywhere: brightness, contrast and noise move it, no border is black.
    assert reflected.min() > 100
