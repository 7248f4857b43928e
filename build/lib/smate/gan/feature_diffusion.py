"""A small denoising diffusion model (Ho et al., 2020) on a classifier's features, LDMLR's generator (Han et al.,
2024) for `feature_smate`: an MLP that predicts the noise, conditioned on the step by a sinusoidal embedding, a
cosine noise schedule (Nichol & Dhariwal, 2021) and ancestral sampling. Written here because the diffusion
libraries (diffusers) are built around images and a UNet; on 512 numbers a row an MLP is all it takes."""

import math

import torch
from torch import nn

STEPS = 100  # noise levels: LDMLR samples its features in as few; each costs one MLP pass per batch


def _cosine_alpha_bars(steps):
    t = torch.linspace(0, 1, steps + 1, dtype=torch.float64)
    f = torch.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, 0).float(), betas.float()


class FeatureDiffusion(nn.Module):
    """An MLP noise predictor on (N, D) standardised features; `fit` trains it, `draw` samples from it."""

    def __init__(self, features, width, depth=3, time_dim=64):
        super().__init__()
        self.time_dim = time_dim
        layers, size = [], features + time_dim
        for _ in range(depth - 1):
            layers += [nn.Linear(size, width), nn.SiLU()]
            size = width
        self.net = nn.Sequential(*layers, nn.Linear(size, features))
        alpha_bars, betas = _cosine_alpha_bars(STEPS)
        self.register_buffer("alpha_bars", alpha_bars)
        self.register_buffer("betas", betas)

    def _embed(self, steps):
        half = self.time_dim // 2
        frequencies = torch.exp(-math.log(10_000) * torch.arange(half, dtype=torch.float32) / half)
        angles = steps.float()[:, None] * frequencies[None]
        return torch.cat([angles.sin(), angles.cos()], 1)

    def forward(self, noisy, steps):
        return self.net(torch.cat([noisy, self._embed(steps)], 1))

    def fit(self, features, steps, batch_size, lr, seed, frozen=0):
        """`steps` Adam steps of the noise-prediction loss; the first `frozen` Linear layers are left as they are.
        Returns the last step's loss."""
        torch.manual_seed(seed)
        draws = torch.Generator().manual_seed(seed)
        linears = [layer for layer in self.net if isinstance(layer, nn.Linear)]
        for layer in linears[:frozen]:
            layer.requires_grad_(False)
        optimizer = torch.optim.Adam([p for p in self.parameters() if p.requires_grad], lr=lr)
        data = torch.as_tensor(features, dtype=torch.float32)
        self.fitted_range = data.min(0).values, data.max(0).values
        loss = torch.zeros(())
        self.train()
        for _ in range(steps):
            clean = data[torch.randint(len(data), (batch_size,), generator=draws)]
            level = torch.randint(STEPS, (batch_size,), generator=draws)
            noise = torch.randn(clean.shape, generator=draws)
            kept = self.alpha_bars[level][:, None]
            loss = nn.functional.mse_loss(self(kept.sqrt() * clean + (1 - kept).sqrt() * noise, level), noise)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        for layer in linears[:frozen]:
            layer.requires_grad_(True)
        return loss.item()

    @torch.no_grad()
    def draw(self, count, seed):
        """`count` samples by ancestral sampling from pure noise, as float64 numpy. Each step goes through the clean
        features it predicts, held to the range the model was fitted on: near pure noise the cosine schedule's
        last steps would otherwise multiply the prediction's error by up to 30."""
        self.eval()
        draws = torch.Generator().manual_seed(seed)
        low, high = self.fitted_range
        x = torch.randn(count, self.net[-1].out_features, generator=draws)
        for t in reversed(range(STEPS)):
            kept, beta = self.alpha_bars[t], self.betas[t]
            kept_before = self.alpha_bars[t - 1] if t else torch.tensor(1.0)
            clean = ((x - (1 - kept).sqrt() * self(x, torch.full((count,), t))) / kept.sqrt()).clamp(low, high)
            # The posterior of the step before, given x and the predicted clean features (Ho et al., eq. 7).
            x = (beta * kept_before.sqrt() * clean + (1 - kept_before) * (1 - beta).sqrt() * x) / (1 - kept)
            if t:
                x = x + (beta * (1 - kept_before) / (1 - kept)).sqrt() * torch.randn(x.shape, generator=draws)
        return x.double().numpy()
