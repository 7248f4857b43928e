"""GAN architectures by name: the paper's Brownlee CIFAR-10 DCGAN, a normalised variant of it, and a half-width
version of Miyato et al.'s (2018) SN-GAN "standard CNN"."""

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..errors import SmateError

LATENT_DIM = 100
PAPER_BLOCKS = 3  # the paper's 4x4 -> 32x32
MIN_START_SIDE = 4


def upsampling_blocks(image_shape):
    """How many doublings grow the generator to `image_shape` (H, W): the most that divide both sides
    and start from at least 4x4 (32x32 -> 3, as in the paper; 64 -> 4; 16 -> 2; 28 -> 2 from 7x7)."""
    height, width = image_shape
    blocks = 0
    while (height % 2 ** (blocks + 1) == 0 and width % 2 ** (blocks + 1) == 0
           and min(height, width) // 2 ** (blocks + 1) >= MIN_START_SIDE):
        blocks += 1
    if blocks == 0:
        raise SmateError(f"the generators cannot grow to {height}x{width} images: they need sides that halve at least "
                         f"once to {MIN_START_SIDE} or more (set data.image_size to e.g. 8, 16, 32 or 64)")
    return blocks


def transfer_freeze(freeze, image_shape):
    """`gan.transfer.freeze` as given for the paper's 32x32 generator, moved to one with more or fewer
    upsampling blocks, so that the same last layers (two conv layers at freeze 6) stay trainable."""
    return max(0, freeze + 2 * (upsampling_blocks(image_shape) - PAPER_BLOCKS))


class Generator(nn.Sequential):
    """A generator as a flat list of layers, so that freeze_first counts them as the paper's Keras model does."""

    def train(self, mode=True):
        """Frozen BatchNorm layers stay in eval mode: a transfer must not move their running statistics."""
        super().train(mode)
        for module in self:
            if isinstance(module, nn.BatchNorm2d) and not any(p.requires_grad for p in module.parameters()):
                module.eval()
        return self


class BrownleeGenerator(Generator):
    """Brownlee's CIFAR-10 generator, layer for layer as the paper's Keras model (1,466,115 parameters).

    The modules mirror the Keras layer list, so `freeze_first(g, 6)` freezes what the paper froze:
    Dense, LeakyReLU, Reshape, ConvT, LeakyReLU, ConvT, leaving the last two conv layers to train.
    With `batchnorm`, a BatchNorm follows each upsampling, as in Radford et al.'s DCGAN; it belongs to
    the layer before it, in the count and in being frozen.
    """

    def __init__(self, latent_dim=LATENT_DIM, channels=3, batchnorm=False, image_shape=(32, 32)):
        blocks = upsampling_blocks(image_shape)
        start = (image_shape[0] >> blocks, image_shape[1] >> blocks)
        layers = [nn.Linear(latent_dim, 256 * start[0] * start[1]), nn.LeakyReLU(0.2), nn.Unflatten(1, (256, *start))]
        width_in = 256
        for _ in range(blocks):
            layers.append(nn.ConvTranspose2d(width_in, 128, kernel_size=4, stride=2, padding=1))
            layers += [nn.BatchNorm2d(128)] if batchnorm else []
            layers.append(nn.LeakyReLU(0.2))
            width_in = 128
        layers += [nn.Conv2d(128, channels, kernel_size=3, padding=1), nn.Tanh()]
        super().__init__(*layers)
        self.latent_dim = latent_dim


class BrownleeDiscriminator(nn.Sequential):
    """Brownlee's CIFAR-10 discriminator (522,497 parameters); it returns logits, not probabilities.
    At other sizes it halves the image as often as the generator doubles it, the last halving to 256 channels."""

    def __init__(self, channels=3, image_shape=(32, 32), norm=None):
        norm = norm or (lambda module: module)
        blocks = upsampling_blocks(image_shape)
        outs = [64] + [128] * (blocks - 1) + [256]
        layers, width_in = [], channels
        for index, width_out in enumerate(outs):
            conv = nn.Conv2d(width_in, width_out, kernel_size=3, stride=1 if index == 0 else 2, padding=1)
            layers += [norm(conv), nn.LeakyReLU(0.2)]
            width_in = width_out
        start = (image_shape[0] >> blocks) * (image_shape[1] >> blocks)
        layers += [nn.Flatten(), nn.Dropout(0.4), norm(nn.Linear(256 * start, 1))]
        super().__init__(*layers)
        self.norm = norm  # for a class projection on top, normalised alike


def normalized_generator(latent_dim=LATENT_DIM, channels=3, image_shape=(32, 32)):
    return BrownleeGenerator(latent_dim, channels, batchnorm=True, image_shape=image_shape)


def spectral_discriminator(channels=3, image_shape=(32, 32)):
    """The Brownlee discriminator with spectral norm on every weight (Miyato et al. 2018)."""
    return BrownleeDiscriminator(channels, image_shape, norm=spectral_norm)


SNGAN_LATENT_DIM = 128
SNGAN_WIDTH = 256  # half of Miyato et al.'s 512: the width at the generator's start and the discriminator's end


class SNGANGenerator(Generator):
    """The generator of Miyato et al.'s (2018) SN-GAN "standard CNN" at half width (1,218,051 parameters at
    32x32): a linear layer to 4x4x256, ConvTranspose 4x4 stride 2 blocks halving the channels (256 -> 128 -> 64
    -> 32 at 32x32), each with BatchNorm and ReLU, a 3x3 conv to the image, tanh. Its layers count for
    freeze_first as the Brownlee generator's do, so freeze 6 leaves the last two convs to train here too."""

    def __init__(self, latent_dim=SNGAN_LATENT_DIM, channels=3, image_shape=(32, 32)):
        blocks = upsampling_blocks(image_shape)
        start = (image_shape[0] >> blocks, image_shape[1] >> blocks)
        layers = [nn.Linear(latent_dim, SNGAN_WIDTH * start[0] * start[1]), nn.Unflatten(1, (SNGAN_WIDTH, *start))]
        width_in = SNGAN_WIDTH
        for _ in range(blocks):
            width_out = max(width_in // 2, 16)
            layers += [nn.ConvTranspose2d(width_in, width_out, kernel_size=4, stride=2, padding=1),
                       nn.BatchNorm2d(width_out), nn.ReLU()]
            width_in = width_out
        layers += [nn.Conv2d(width_in, channels, kernel_size=3, padding=1), nn.Tanh()]
        super().__init__(*layers)
        self.latent_dim = latent_dim


class SNGANDiscriminator(nn.Sequential):
    """The SN-GAN "standard CNN" discriminator, shortened: a 4x4 stride-2 conv per halving (64, 128, 256
    channels at 32x32), each but the last followed by a 3x3 stride-1 conv of its width, LeakyReLU 0.1 after
    every conv, then a linear score; `norm` (spectral norm by default) on every weight. It returns logits."""

    def __init__(self, channels=3, image_shape=(32, 32), norm=spectral_norm):
        norm = norm or (lambda module: module)
        blocks = upsampling_blocks(image_shape)
        layers, width_in = [], channels
        for index in range(blocks):
            width_out = 64 * 2 ** index
            layers += [norm(nn.Conv2d(width_in, width_out, kernel_size=4, stride=2, padding=1)), nn.LeakyReLU(0.1)]
            if index < blocks - 1:
                layers += [norm(nn.Conv2d(width_out, width_out, kernel_size=3, padding=1)), nn.LeakyReLU(0.1)]
            width_in = width_out
        start = (image_shape[0] >> blocks) * (image_shape[1] >> blocks)
        layers += [nn.Flatten(), norm(nn.Linear(width_in * start, 1))]
        super().__init__(*layers)
        self.norm = norm  # for a class projection on top, normalised alike


def plain_sngan_discriminator(channels=3, image_shape=(32, 32)):
    """The SN-GAN discriminator without spectral norm, for a recipe that regularises D another way (R1)."""
    return SNGANDiscriminator(channels, image_shape, norm=None)


class ConditionalGenerator(nn.Module):
    """A generator told which class to draw: the noise scaled by a learned embedding of the label
    (as PyTorch's ACGAN example conditions its generator)."""

    def __init__(self, body, num_classes):
        super().__init__()
        self.body, self.latent_dim = body, body.latent_dim
        self.embed = nn.Embedding(num_classes, body.latent_dim)

    def forward(self, noise, labels):
        return self.body(noise * self.embed(labels))


class ProjectionDiscriminator(nn.Module):
    """A discriminator with a class projection (Miyato and Koyama 2018): the body's score of an image plus
    the inner product of its last features with an embedding of the label."""

    def __init__(self, body, num_classes):
        super().__init__()
        self.features, self.score = nn.Sequential(*list(body)[:-1]), body[-1]
        self.embed = body.norm(nn.Embedding(num_classes, self.score.in_features))

    def forward(self, images, labels):
        features = self.features(images)
        return self.score(features) + (self.embed(labels) * features).sum(1, keepdim=True)


def freeze_first_weights(discriminator, k):
    """Keep the parameters of the discriminator's first `k` weight layers (convs and linears, from the image
    side) as they are: FreezeD (Mo et al. 2020), which fine-tunes the rest of D on the few target images."""
    layers = [m for m in discriminator.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    for layer in layers[:k]:
        for parameter in layer.parameters():
            parameter.requires_grad = False
    return discriminator


def freeze_first(generator, k):
    """Stop gradients to the parameters of the generator's first `k` layers, counted as the paper's Keras
    model counts them: a BatchNorm is not a layer of its own but goes with the layer before it."""
    layer = -1
    for module in generator:
        if not isinstance(module, nn.BatchNorm2d):
            layer += 1
        for parameter in module.parameters():
            parameter.requires_grad = layer >= k
    generator.train(generator.training)
    return generator
