"""Drawing labelled samples from a conditional generator, stored as 8-bit images."""

from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    return (images.clamp(0, 1) * 255).round().to(torch.uint8)


def to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 255.0


@torch.no_grad()
def generate(model: nn.Module, labels: torch.Tensor, batch_size: int, generator: torch.Generator | None = None,
             device: torch.device | None = None, desc: str = "sample") -> torch.Tensor:
    """One sample per entry of ``labels``, as uint8 images ``[N, C, H, W]`` on the CPU."""
    model.eval()
    out = []
    for start in tqdm(range(0, len(labels), batch_size), desc=desc, mininterval=2.0):
        c = labels[start:start + batch_size].to(device)
        out.append(to_uint8(model.sample(c, generator=generator)).cpu())
    return torch.cat(out)


def evaluation_labels(num_classes: int, forget_classes: list[int], forget_samples: int,
                      samples_per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels of the samples scored for forgetting (c_f) and for the remembered classes."""
    forget = torch.tensor(forget_classes).repeat_interleave(-(-forget_samples // len(forget_classes)))[:forget_samples]
    remember = [c for c in range(num_classes) if c not in forget_classes]
    return forget, torch.tensor(remember).repeat_interleave(samples_per_class)
