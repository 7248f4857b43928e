"""SMate's recipe in a classifier's feature space: an MLP GAN pretrained on the majority classes' features and
transferred to a minority class's, its first layers frozen. On features a generator converges in seconds on a
CPU, where the pixel GAN needs GPU-hours."""

import numpy as np
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .losses import HingeLoss


class FeatureGenerator(nn.Sequential):
    def __init__(self, noise_dim, width, out_features, depth=3):
        layers, size = [], noise_dim
        for _ in range(depth - 1):
            layers += [nn.Linear(size, width), nn.LeakyReLU(0.2)]
            size = width
        super().__init__(*layers, nn.Linear(size, out_features))
        self.noise_dim = noise_dim


class FeatureDiscriminator(nn.Sequential):
    def __init__(self, in_features, width, depth=3):
        layers, size = [], in_features
        for _ in range(depth - 1):
            layers += [spectral_norm(nn.Linear(size, width)), nn.LeakyReLU(0.2)]
            size = width
        super().__init__(*layers, spectral_norm(nn.Linear(size, 1)))


def train_feature_gan(generator, discriminator, features, steps, batch_size, lr, seed, frozen=0):
    """Hinge-loss GAN steps on standardised features (N, D); the first `frozen` Linear layers of G are left
    as they are. Returns the last step's (D loss, G loss)."""
    torch.manual_seed(seed)
    generator_generator = torch.Generator().manual_seed(seed)
    linears = [layer for layer in generator if isinstance(layer, nn.Linear)]
    for layer in linears[:frozen]:
        layer.requires_grad_(False)
    trainable = [p for p in generator.parameters() if p.requires_grad]
    optimizer_g = torch.optim.Adam(trainable, lr=lr, betas=(0.0, 0.99))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.0, 0.99))
    loss = HingeLoss()
    real_all = torch.as_tensor(features, dtype=torch.float32)
    d_loss = g_loss = torch.zeros(())
    for _ in range(steps):
        real = real_all[torch.randint(len(real_all), (batch_size,), generator=generator_generator)]
        fake = generator(torch.randn(batch_size, generator.noise_dim, generator=generator_generator))
        d_loss = loss.discriminator_loss(discriminator(real), discriminator(fake.detach()))
        optimizer_d.zero_grad(set_to_none=True)
        d_loss.backward()
        optimizer_d.step()
        g_loss = loss.generator_loss(discriminator(fake))
        optimizer_g.zero_grad(set_to_none=True)
        g_loss.backward()
        optimizer_g.step()
    for layer in linears[:frozen]:
        layer.requires_grad_(True)
    return d_loss.item(), g_loss.item()


class Standardizer:
    """Per-feature mean and std of the features the GAN pretrains on; its inputs and outputs live in that scale."""

    def __init__(self, features):
        self.mean = features.mean(0)
        self.std = features.std(0) + 1e-6

    def to(self, features):
        return (features - self.mean) / self.std

    def back(self, standardized):
        return standardized * self.std + self.mean


@torch.no_grad()
def draw(generator, count, seed):
    noise = torch.randn(count, generator.noise_dim, generator=torch.Generator().manual_seed(seed))
    return generator.eval()(noise).double().numpy()


def smate_in_feature_space(features, labels, minority_ids, *, noise_dim, width, pretrain_steps, transfer_steps,
                           frozen, batch_size, lr, seed):
    """{minority class: its transferred generator} and the standardizer they share: one G and D pretrained on
    the majority classes' features, then for each minority class a copy of both trained on its features."""
    import copy

    features = np.asarray(features, dtype=np.float64)
    majority = ~np.isin(labels, minority_ids)
    scale = Standardizer(features[majority])
    torch.manual_seed(seed)
    generator = FeatureGenerator(noise_dim, width, features.shape[1])
    discriminator = FeatureDiscriminator(features.shape[1], width)
    train_feature_gan(generator, discriminator, scale.to(features[majority]), pretrain_steps, batch_size, lr, seed)
    transferred = {}
    for offset, class_id in enumerate(minority_ids):
        g, d = copy.deepcopy(generator).train(), copy.deepcopy(discriminator)
        train_feature_gan(g, d, scale.to(features[labels == class_id]), transfer_steps, batch_size, lr,
                          seed + 1 + offset, frozen)
        transferred[class_id] = g
    return transferred, scale
