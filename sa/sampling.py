"""Drawing labelled samples from a conditional generator, stored as 8-bit images."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from sa.io import load_torch, save_torch
from sa.training import Checkpoint

log = logging.getLogger(__name__)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    return (images.clamp(0, 1) * 255).round().to(torch.uint8)


def to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 255.0


@torch.no_grad()
def generate(model: nn.Module, labels: torch.Tensor, batch_size: int, generator: torch.Generator | None = None,
             device: torch.device | None = None, desc: str = "sample",
             checkpoint: Checkpoint | None = None) -> torch.Tensor:
    """One sample per entry of ``labels``, as uint8 images ``[N, C, H, W]`` on the CPU.

    With a ``checkpoint`` (and a ``generator``), the images so far and the generator's state are
    saved every ``checkpoint.every`` batches, and a restarted call resumes there with the same
    result as an uninterrupted one.
    """
    model.eval()
    out: list[torch.Tensor] = []
    path = Path(checkpoint.path) if checkpoint and checkpoint.every and generator is not None else None
    if path and path.exists():
        blob = load_torch(path)
        if blob["fingerprint"] == checkpoint.fingerprint:
            out = blob["images"]
            generator.set_state(blob["generator"])
            log.info("resumed %s from %s after %d batches", desc, path, len(out))
    starts = range(0, len(labels), batch_size)
    for batch, start in enumerate(tqdm(starts, desc=desc, mininterval=2.0, initial=len(out), total=len(starts))):
        if batch < len(out):
            continue
        c = labels[start:start + batch_size].to(device)
        out.append(to_uint8(model.sample(c, generator=generator)).cpu())
        if path and (len(out) % checkpoint.every == 0 or len(out) == len(starts)):
            save_torch({"images": out, "generator": generator.get_state(), "fingerprint": checkpoint.fingerprint},
                       path)
    return torch.cat(out)


def evaluation_labels(num_classes: int, forget_classes: list[int], forget_samples: int,
                      samples_per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels of the samples scored for forgetting (c_f) and for the remembered classes."""
    forget = torch.tensor(forget_classes).repeat_interleave(-(-forget_samples // len(forget_classes)))[:forget_samples]
    remember = [c for c in range(num_classes) if c not in forget_classes]
    return forget, torch.tensor(remember).repeat_interleave(samples_per_class)
