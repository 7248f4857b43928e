"""SMate's recipe in a classifier's feature space: a generator pretrained on the majority classes' features and
transferred to each minority class's, its first layers frozen. On features a generator trains in seconds on a
CPU, where the pixel GAN needs GPU-hours. The generators: an MLP GAN or a small diffusion model (LDMLR's)."""

import copy

import numpy as np
import torch

from .feature_diffusion import FeatureDiffusion
from .feature_gan import FeatureGAN

# Each builds a generator of `features` numbers a row; `noise_dim` is the GAN's latent size.
GENERATORS = {
    "gan": lambda features, width, noise_dim: FeatureGAN(features, width, noise_dim),
    "diffusion": lambda features, width, noise_dim: FeatureDiffusion(features, width),
}


class Standardizer:
    """Per-feature mean and std of the features the generator pretrains on; its inputs and outputs live in that
    scale. `back` keeps each feature at or above `floor`, the least value the backbone gave it (0 after a ReLU):
    below it a feature is one the backbone cannot produce."""

    def __init__(self, features, floor):
        self.mean = features.mean(0)
        self.std = features.std(0) + 1e-6
        self.floor = floor

    def to(self, features):
        return (features - self.mean) / self.std

    def back(self, standardized):
        return np.maximum(standardized * self.std + self.mean, self.floor)


def smate_in_feature_space(features, labels, minority_ids, *, generator="gan", noise_dim, width, pretrain_steps,
                           transfer_steps, frozen, batch_size, lr, seed):
    """{minority class: its transferred generator} and the standardizer they share: one generator pretrained on
    the majority classes' features, then for each minority class a copy trained on its features."""
    features = np.asarray(features, dtype=np.float64)
    majority = ~np.isin(labels, minority_ids)
    scale = Standardizer(features[majority], floor=features.min(0))
    torch.manual_seed(seed)
    pretrained = GENERATORS[generator](features.shape[1], width, noise_dim)
    pretrained.fit(scale.to(features[majority]), pretrain_steps, batch_size, lr, seed)
    transferred = {}
    for offset, class_id in enumerate(minority_ids):
        model = copy.deepcopy(pretrained)
        model.fit(scale.to(features[labels == class_id]), transfer_steps, batch_size, lr, seed + 1 + offset, frozen)
        transferred[class_id] = model
    return transferred, scale
