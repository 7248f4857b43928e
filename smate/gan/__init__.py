"""SMate's generators: architectures, losses, and the pretrain / transfer training loop (imported when first
used: see smate/registry.py)."""

from ..registry import Registry, lazy_attributes

_MODELS = "smate.gan.models"
ARCHITECTURES = Registry("GAN architecture", {
    "brownlee": (f"{_MODELS}:BrownleeGenerator", f"{_MODELS}:BrownleeDiscriminator"),
    "dcgan_sn": (f"{_MODELS}:normalized_generator", f"{_MODELS}:spectral_discriminator"),
})
LOSSES = Registry("GAN loss", {name: f"smate.gan.losses:{cls}" for name, cls in (
    ("gan", "GANLoss"), ("wgan-gp", "WGANGPLoss"), ("lsgan", "LSGANLoss"), ("dragan", "DRAGANLoss"), ("hinge", "HingeLoss"))})

__getattr__ = lazy_attributes(__name__, {"build_gan": "smate.gan.train:build_gan", "sample": "smate.gan.train:sample",
                                         "train_gan": "smate.gan.train:train_gan",
                                         "freeze_first": "smate.gan.models:freeze_first"})

__all__ = ["ARCHITECTURES", "LOSSES", "build_gan", "freeze_first", "sample", "train_gan"]
