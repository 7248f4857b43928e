"""An MLP GAN on a classifier's features, one of feature_smate's generators (smate/gan/feature_space.py)."""

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


@torch.no_grad()
def draw(generator, count, seed):
    noise = torch.randn(count, generator.noise_dim, generator=torch.Generator().manual_seed(seed))
    return generator.eval()(noise).double().numpy()


class FeatureGAN(nn.Module):
    """G and D as one feature generator with the interface smate/gan/feature_space.py trains: fit and draw."""

    def __init__(self, features, width, noise_dim):
        super().__init__()
        self.generator = FeatureGenerator(noise_dim, width, features)
        self.discriminator = FeatureDiscriminator(features, width)

    def fit(self, features, steps, batch_size, lr, seed, frozen=0):
        self.generator.train()
        return train_feature_gan(self.generator, self.discriminator, features, steps, batch_size, lr, seed, frozen)

    def draw(self, count, seed):
        return draw(self.generator, count, seed)
