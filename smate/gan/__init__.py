"""SMate's generators: architectures, losses, and the pretrain / transfer training loop."""

from .losses import LOSSES
from .models import ARCHITECTURES, freeze_first
from .train import build_gan, sample, train_gan

__all__ = ["ARCHITECTURES", "LOSSES", "build_gan", "freeze_first", "sample", "train_gan"]
