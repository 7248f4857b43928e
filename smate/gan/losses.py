"""The adversarial losses the paper's code offered: gan (BCE), wgan-gp, lsgan, dragan, hinge.

Each takes the discriminator's raw scores. `discriminator_loss` may also need the discriminator
and the batches, for the gradient penalties of wgan-gp and dragan.
"""

import torch
import torch.nn.functional as F

PENALTY_WEIGHT = 10.0


def _gradient_norms(discriminator, points):
    """Each point's norm of D's gradient there, differentiable for the D step."""
    points = points.detach().requires_grad_(True)
    scores = discriminator(points)
    (gradients,) = torch.autograd.grad(scores.sum(), points, create_graph=True)
    return gradients.flatten(1).norm(dim=1)


def _gradient_penalty(discriminator, points):
    return ((_gradient_norms(discriminator, points) - 1) ** 2).mean()


def r1_penalty(discriminator, real):
    """E ||grad D(x)||^2 at real images (Mescheder et al. 2018), the regulariser StyleGAN2 and GAN-ADA use."""
    return (_gradient_norms(discriminator, real) ** 2).mean()


class LeCam:
    """Tseng et al.'s (2021) regulariser for D on limited data: D's scores on real images are pulled below the
    running mean of its fake scores, and its fake scores above the running mean of its real ones, squared and
    weighted by `weight`. The means start at the first batch's and then decay at 0.99, as their code's do; they
    are tensors updated in place, so that a CUDA graph replays the step with them."""

    DECAY = 0.99

    def __init__(self, weight, device):
        self.weight = weight
        self.real_mean, self.fake_mean = torch.zeros((), device=device), torch.zeros((), device=device)
        self.started = torch.zeros((), dtype=torch.bool, device=device)

    def __call__(self, real_scores, fake_scores):
        with torch.no_grad():
            for mean, scores in ((self.real_mean, real_scores), (self.fake_mean, fake_scores)):
                now = scores.mean()
                mean.copy_(torch.where(self.started, mean * self.DECAY + now * (1 - self.DECAY), now))
            self.started.fill_(True)
        return self.weight * (F.relu(real_scores - self.fake_mean).pow(2).mean()
                              + F.relu(self.real_mean - fake_scores).pow(2).mean())


def _between(a, b):
    """A point drawn uniformly on the segment from each image of `a` to its partner in `b`."""
    alpha = torch.rand(len(a), 1, 1, 1, device=a.device, dtype=a.dtype)
    return alpha * a + (1 - alpha) * b


class GANLoss:
    """Goodfellow et al.'s loss with the non-saturating generator objective, on logits."""

    # A score above this counts as 'real' when measuring the discriminator's accuracy.
    threshold = 0.0

    def discriminator_loss(self, real_scores, fake_scores, discriminator=None, real=None, fake=None):
        return (F.binary_cross_entropy_with_logits(real_scores, torch.ones_like(real_scores))
                + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores)))

    def generator_loss(self, fake_scores):
        return F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))


class LSGANLoss(GANLoss):
    """Least squares (Mao et al. 2017): real scores pulled to 1, fake to 0."""

    threshold = 0.5

    def discriminator_loss(self, real_scores, fake_scores, discriminator=None, real=None, fake=None):
        return 0.5 * ((real_scores - 1) ** 2).mean() + 0.5 * (fake_scores**2).mean()

    def generator_loss(self, fake_scores):
        return 0.5 * ((fake_scores - 1) ** 2).mean()


class HingeLoss(GANLoss):
    """Hinge loss (Lim and Ye 2017; Miyato et al. 2018)."""

    def discriminator_loss(self, real_scores, fake_scores, discriminator=None, real=None, fake=None):
        return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()

    def generator_loss(self, fake_scores):
        return -fake_scores.mean()


class WGANGPLoss(GANLoss):
    """Wasserstein loss with a gradient penalty on real-fake interpolates (Gulrajani et al. 2017)."""

    def generator_loss(self, fake_scores):
        return -fake_scores.mean()

    def discriminator_loss(self, real_scores, fake_scores, discriminator=None, real=None, fake=None):
        between = _between(real, fake.detach())
        return fake_scores.mean() - real_scores.mean() + PENALTY_WEIGHT * _gradient_penalty(discriminator, between)


class DRAGANLoss(GANLoss):
    """The gan loss with a gradient penalty at random points between real images and perturbed copies
    of them (Kodali et al. 2017, as their reference code does)."""

    def discriminator_loss(self, real_scores, fake_scores, discriminator=None, real=None, fake=None):
        perturbed = real + 0.5 * real.std() * torch.rand_like(real)
        between = _between(real, perturbed)
        return super().discriminator_loss(real_scores, fake_scores) + PENALTY_WEIGHT * _gradient_penalty(discriminator, between)

