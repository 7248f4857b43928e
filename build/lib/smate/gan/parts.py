"""The GAN's registered parts: its architectures (a generator and a discriminator) and its losses, named here and
imported on first use (smate/registry.py)."""

from ..registry import Registry

_MODELS = "smate.gan.models"
ARCHITECTURES = Registry("GAN architecture", {
    "brownlee": (f"{_MODELS}:BrownleeGenerator", f"{_MODELS}:BrownleeDiscriminator"),
    "dcgan_sn": (f"{_MODELS}:normalized_generator", f"{_MODELS}:spectral_discriminator"),
    "sngan_cnn": (f"{_MODELS}:SNGANGenerator", f"{_MODELS}:SNGANDiscriminator"),
    "sngan_cnn_nosn": (f"{_MODELS}:SNGANGenerator", f"{_MODELS}:plain_sngan_discriminator"),
})
LOSSES = Registry("GAN loss", {name: f"smate.gan.losses:{cls}" for name, cls in (
    ("gan", "GANLoss"), ("wgan-gp", "WGANGPLoss"), ("lsgan", "LSGANLoss"), ("dragan", "DRAGANLoss"), ("hinge", "HingeLoss"))})
