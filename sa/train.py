"""Training of the original generative models and of the evaluation classifier."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sa.training import Checkpoint, random_batch, train_loop


def train_vae(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float, batch_size: int,
              checkpoint: Checkpoint | None = None) -> list[dict]:
    """Maximum likelihood through the ELBO: the original θ* that SA starts from."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()

    def step(_: int) -> dict[str, float]:
        idx = random_batch(len(x), batch_size)
        loss = -model.elbo(x[idx], y[idx]).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"neg_elbo": loss.item()}

    return train_loop(step, steps, {"model": model, "optimizer": optimizer}, checkpoint,
                      desc="train vae")


def train_ddpm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float, batch_size: int,
               ema_decay: float, p_uncond: float, grad_clip: float,
               checkpoint: Checkpoint | None = None) -> list[dict]:
    """The paper's DDPM training: noise-prediction loss, the class dropped with probability
    ``p_uncond`` (classifier-free guidance), gradient clipping, and an EMA of the weights that
    becomes the model at the end."""
    from sa.diffusion import EMA

    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    ema = EMA(model, decay=ema_decay)
    model.train()

    def step(_: int) -> dict[str, float]:
        idx = random_batch(len(x), batch_size)
        loss = model.training_loss(x[idx], y[idx], p_uncond=p_uncond)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        ema.update(model)
        return {"loss": loss.item()}

    history = train_loop(step, steps, {"model": model, "optimizer": optimizer, "ema": ema}, checkpoint,
                         desc="train ddpm")
    ema.copy_to(model)
    return history


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: float, lr: float,
                     batch_size: int, checkpoint: Checkpoint | None = None) -> list[dict]:
    """Cross-entropy with Adam; ``epochs`` passes over the data in batches drawn with replacement."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = math.ceil(epochs * len(x) / batch_size)
    model.train()

    def step(_: int) -> dict[str, float]:
        idx = random_batch(len(x), batch_size)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"cross_entropy": loss.item()}

    history = train_loop(step, steps, {"model": model, "optimizer": optimizer}, checkpoint, desc="train classifier")
    model.eval()
    return history


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    model.eval()
    hits = sum((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
               for i in range(0, len(x), batch_size))
    return hits / len(x)
