"""The conditional VAE of the paper (Appendix B.1).

MLP encoder and decoder, a one-hot class vector concatenated to both inputs, an 8-dimensional
latent with a standard normal prior and a Bernoulli decoder over the pixels.
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ConditionalVAE(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], num_classes: int,
                 hidden: tuple[int, ...] = (512, 256), z_dim: int = 8):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes
        self.z_dim = z_dim
        x_dim = math.prod(image_shape)
        hidden = list(hidden)
        self.encoder = _mlp([x_dim + num_classes, *hidden, 2 * z_dim])
        self.decoder = _mlp([z_dim + num_classes, *reversed(hidden), x_dim])
        # Indexing a fixed identity matrix gives one-hot vectors and, unlike F.one_hot, works under vmap.
        self.register_buffer("one_hot", torch.eye(num_classes), persistent=False)

    def encode(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(torch.cat([x.flatten(1), self.one_hot[c]], dim=1))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, self.one_hot[c]], dim=1))

    def elbo(self, x: torch.Tensor, c: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample ELBO (nats), one reparameterised draw of z. ``noise`` fixes that draw."""
        mu, logvar = self.encode(x, c)
        if noise is None:
            noise = torch.randn_like(mu)
        z = mu + torch.exp(0.5 * logvar) * noise
        logits = self.decode_logits(z, c)
        log_likelihood = -F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
        return log_likelihood - kl

    def noise_shape(self, batch: int) -> tuple[int, ...]:
        return (batch, self.z_dim)

    @torch.no_grad()
    def sample(self, c: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Images in [0, 1]: the decoder's Bernoulli means for z drawn from the prior."""
        z = torch.randn(len(c), self.z_dim, generator=generator, device=c.device)
        probs = torch.sigmoid(self.decode_logits(z, c))
        return probs.view(len(c), *self.image_shape)
