"""The class-conditional DDPM U-Net (Appendix B.1, CIFAR10 DDPM).

The architecture of Ho et al. (2020): a convolutional U-Net with ``num_res_blocks`` residual
blocks per resolution, self-attention at the resolutions in ``attention_resolutions``, a
residual-attention-residual middle, and skip connections from every down-path block to the up
path. Class conditioning follows the paper: a learned class embedding is added to the
sinusoidal time embedding and every residual block applies FiLM, ``h * (1 + scale) + shift``,
with ``(scale, shift)`` a linear function of that sum. Class index ``num_classes`` is the
"null" class of classifier-free guidance.
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F


def _group_norm(channels: int) -> nn.GroupNorm:
    # 32 groups as in DDPM; fewer for narrow layers, so that each group keeps at least 4 channels.
    groups = math.gcd(32, channels // 4) if channels % 4 == 0 else 1
    return nn.GroupNorm(groups, channels)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding ``[sin(t w_k), cos(t w_k)]`` of integer timesteps, ``[B] -> [B, dim]``."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / (half - 1))
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class SelfAttention(nn.Module):
    """Single-head self-attention over the pixels, with a residual connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = _group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, ch, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, ch, h * w).unbind(1)
        weights = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(ch), dim=-1)  # [b, query, key]
        out = (v @ weights.transpose(1, 2)).reshape(b, ch, h, w)
        return x + self.proj(out)


class ResBlock(nn.Module):
    """DDPM residual block with FiLM conditioning, optionally followed by self-attention."""

    def __init__(self, in_channels: int, out_channels: int, emb_dim: int, dropout: float,
                 attention: bool = False):
        super().__init__()
        self.norm1 = _group_norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * out_channels)
        self.norm2 = _group_norm(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        self.attention = SelfAttention(out_channels) if attention else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(F.silu(h)))
        return self.attention(self.skip(x) + h)


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ConditionalUNet(nn.Module):
    """Predicts the noise ``eps`` in ``x_t``: ``forward(x_t [B,C,H,W], t [B] int, c [B] int)``."""

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, base_channels: int = 128,
                 channel_mult: tuple[int, ...] = (1, 2, 2, 2), num_res_blocks: int = 2,
                 attention_resolutions: tuple[int, ...] = (16,), dropout: float = 0.1):
        super().__init__()
        channels, size, _ = image_shape
        if size % 2 ** (len(channel_mult) - 1):
            raise ValueError(f"image size {size} does not halve {len(channel_mult) - 1} times")
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes
        self.base_channels = base_channels
        emb_dim = 4 * base_channels

        self.time_mlp = nn.Sequential(nn.Linear(base_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.class_emb = nn.Embedding(num_classes + 1, emb_dim)  # the last row is the null class
        self.conv_in = nn.Conv2d(channels, base_channels, 3, padding=1)

        ch, res = base_channels, size
        skip_channels = [ch]
        self.down = nn.ModuleList()
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                self.down.append(ResBlock(ch, base_channels * mult, emb_dim, dropout, res in attention_resolutions))
                ch = base_channels * mult
                skip_channels.append(ch)
            if level != len(channel_mult) - 1:
                self.down.append(Downsample(ch))
                res //= 2
                skip_channels.append(ch)

        self.mid = nn.ModuleList([ResBlock(ch, ch, emb_dim, dropout, attention=True),
                                  ResBlock(ch, ch, emb_dim, dropout)])

        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for _ in range(num_res_blocks + 1):
                self.up.append(ResBlock(ch + skip_channels.pop(), base_channels * mult, emb_dim, dropout,
                                        res in attention_resolutions))
                ch = base_channels * mult
            if level != 0:
                self.up.append(Upsample(ch))
                res *= 2

        self.norm_out = _group_norm(ch)
        self.conv_out = nn.Conv2d(ch, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(timestep_embedding(t, self.base_channels)) + self.class_emb(c)
        h = self.conv_in(x)
        skips = [h]
        for layer in self.down:
            h = layer(h, emb)
            skips.append(h)
        for layer in self.mid:
            h = layer(h, emb)
        for layer in self.up:
            if isinstance(layer, ResBlock):
                h = torch.cat([h, skips.pop()], dim=1)
            h = layer(h, emb)
        return self.conv_out(F.silu(self.norm_out(h)))
