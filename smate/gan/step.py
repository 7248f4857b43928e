"""One GAN training step, eager or replayed as a CUDA graph.

At the paper's batch of 128 the DCGAN's step is many small kernels, so a GPU waits on Python to
launch them (anchors.md: at batch 128 bf16 was slower than fp32, launch-bound). One graph replay
launches them all at once.
"""

import torch

from .losses import r1_penalty


def gan_step(generator, discriminator, opt_g, opt_d, loss, real, autocast=None, cache=True, augment=None, guide=None,
             labels=None, r1=0.0, lecam=None):
    """One step on a batch of real images: D on them and as many fresh fakes, then G. With `labels` (a
    cGAN) the fakes are drawn for the real images' labels and D scores every image with its label. Returns
    (D loss, G loss, share of real caught, share of fake caught) as one tensor on the device, and with
    a `guide` (SMate+'s classifier term, added to G's loss) the share of fakes its classifier recognises.
    `cache=False` turns off autocast's weight cache, which a CUDA graph capture must not use.
    `augment` (DiffAugment) changes every image D sees, real or fake, with a fresh draw each time.
    `r1` weighs Mescheder et al.'s (2018) penalty on D's gradient at the real images it sees; `lecam` (a
    losses.LeCam) adds its regulariser to D's loss."""
    device_type = real.device.type
    seen = augment or (lambda images: images)
    condition = () if labels is None else (labels,)
    critic = discriminator if labels is None else (lambda images: discriminator(images, labels))
    noise = torch.randn(len(real), generator.latent_dim, device=real.device)
    with torch.autocast(device_type, dtype=autocast, enabled=autocast is not None, cache_enabled=cache):
        fake = generator(noise, *condition)
        real_seen, fake_seen = seen(real), seen(fake.detach())
        real_scores = critic(real_seen).float()
        fake_scores = critic(fake_seen).float()
    d_loss = loss.discriminator_loss(real_scores, fake_scores, critic, real_seen, fake_seen)
    if lecam is not None:
        d_loss = d_loss + lecam(real_scores, fake_scores)
    if r1:
        with torch.autocast(device_type, dtype=autocast, enabled=autocast is not None, cache_enabled=cache):
            d_loss = d_loss + r1 / 2 * r1_penalty(critic, real_seen)
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    # The generator step reuses this batch's fakes against the just-updated discriminator.
    with torch.autocast(device_type, dtype=autocast, enabled=autocast is not None, cache_enabled=cache):
        g_scores = critic(seen(fake)).float()
        guide_loss, recognised = guide(fake) if guide is not None else (0.0, None)
    g_loss = loss.generator_loss(g_scores) + guide_loss
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return torch.stack([
        d_loss.detach(), g_loss.detach(),
        (real_scores.detach() > loss.threshold).float().mean(),
        (fake_scores.detach() <= loss.threshold).float().mean(),
        *([] if recognised is None else [recognised]),
    ])


# Eager steps before the capture: they allocate the optimizers' state and let cuDNN pick its kernels.
WARMUP_STEPS = 3


class GANStepper:
    """Call with each batch of real images (and their labels, for a cGAN); returns gan_step's statistics.
    With `graphs` (CUDA only), the first WARMUP_STEPS full batches run eagerly on a side stream, the next
    one is captured, and every later full batch replays it; a smaller last batch runs eagerly. Without,
    every step is eager."""

    def __init__(self, generator, discriminator, opt_g, opt_d, loss, autocast=None, graphs=False, augment=None, guide=None,
                 r1=0.0, lecam=None):
        self.models = (generator, discriminator, opt_g, opt_d, loss)
        self.autocast, self.options = autocast, {"augment": augment, "guide": guide, "r1": r1, "lecam": lecam}
        self.graphs = graphs
        self.steps = 0
        self.graph = self.static_real = self.static_labels = self.static_stats = None
        self.batch_size = None

    def __call__(self, real, labels=None):
        if not self.graphs:
            return self._step(real, labels)
        if self.batch_size is None:
            self.batch_size = len(real)
        if len(real) != self.batch_size:
            return self._step(real, labels, cache=False)
        self.steps += 1
        if self.steps <= WARMUP_STEPS:
            return self._on_side_stream(real, labels)
        if self.graph is None:
            return self._capture(real, labels)
        self.static_real.copy_(real)
        if labels is not None:
            self.static_labels.copy_(labels)
        self.graph.replay()
        return self.static_stats

    def _step(self, real, labels, cache=True):
        return gan_step(*self.models, real, self.autocast, cache=cache, labels=labels, **self.options)

    def _on_side_stream(self, real, labels):
        side = torch.cuda.Stream(real.device)
        side.wait_stream(torch.cuda.current_stream(real.device))
        with torch.cuda.stream(side):
            stats = self._step(real, labels, cache=False)
        torch.cuda.current_stream(real.device).wait_stream(side)
        return stats

    def _capture(self, real, labels):
        self.static_real = real.clone()
        self.static_labels = None if labels is None else labels.clone()
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.static_stats = self._step(self.static_real, self.static_labels, cache=False)
        # Capturing records the step without running it; replay runs this batch's step.
        self.graph.replay()
        return self.static_stats
