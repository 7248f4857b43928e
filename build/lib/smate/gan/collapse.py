"""A collapse signal for a generator in training: how alike its samples are, against how alike real images are.

The measure is the mean SSIM over all pairs of a batch (Odena et al., AC-GAN 2017, found collapsed classes
with its multi-scale form, which needs larger images than 32x32): real images of a class share little structure (about 0.08 among 32 CIFAR-10
images), a generator drawing one pattern in many colours shares much (0.5 and more, the
committed paper-cpu pretraining's grids). Pixel distances miss that kind of collapse: colour and
position changes keep them near the real images'.
"""

SAMPLES = 32  # 496 pairs: a fraction of a second an epoch on one CPU thread at 32x32
LARGEST_SIDE = 32  # larger images are scored shrunk to this: SSIM's cost grows with the pixels
WINDOW = 5
# Samples more alike than real images by this much are called collapsed: the committed paper-cpu grids that
# repeat one pattern (pretraining, smate_noaug, gan_minority) are 0.36 to 0.66 above their real images,
# its diverse if poor transfers (smate, smate_plus, smate_diffaugment) 0.10 to 0.19.
MARGIN = 0.3


def mean_pairwise_ssim(images):
    """The mean SSIM over all pairs of NCHW images in [-1, 1], on their grey levels."""
    # Imported here: the report reads MARGIN and collapsed() without loading torch and kornia.
    import torch
    import torch.nn.functional as F
    from kornia.metrics import ssim

    grey = (images.detach().float().mean(1, keepdim=True) + 1) / 2
    side = max(grey.shape[-2:])
    if side > LARGEST_SIDE:
        grey = F.interpolate(grey, scale_factor=LARGEST_SIDE / side, mode="area")
    first, second = torch.triu_indices(len(grey), len(grey), offset=1, device=grey.device)
    return float(ssim(grey[first], grey[second], WINDOW).mean())


def collapsed(sample_similarity, real_similarity):
    return sample_similarity - real_similarity > MARGIN


def collapse_warning(label, sample_similarity, real_similarity, where):
    return (f"warning: {label}'s generator has collapsed: its samples' mean pairwise SSIM is {sample_similarity:.2f} "
            f"against {real_similarity:.2f} among real images (see {where})")
