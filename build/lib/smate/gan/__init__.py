"""SMate's generators: architectures, losses, and the pretrain / transfer training loop (imported when first
used: see smate/registry.py)."""

from ..registry import lazy_attributes
from .parts import ARCHITECTURES, LOSSES

__getattr__ = lazy_attributes(__name__, {"build_gan": "smate.gan.train:build_gan", "sample": "smate.gan.train:sample",
                                         "train_gan": "smate.gan.train:train_gan",
                                         "freeze_first": "smate.gan.models:freeze_first"})

__all__ = ["ARCHITECTURES", "LOSSES", "build_gan", "freeze_first", "sample", "train_gan"]
