"""Training of the original generative models and of the evaluation classifier."""

from __future__ import annotations

import math
import os

import torch
import torch.nn.functional as F
from torch import nn

from sa.training import random_batch, train_loop


def train_vae(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float, batch_size: int,
              checkpoint_path: str | os.PathLike | None = None, checkpoint_every: int = 0) -> list[dict]:
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

    return train_loop(step, steps, {"model": model, "optimizer": optimizer}, checkpoint_path, checkpoint_every,
                      desc="train vae")


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: float, lr: float,
                     batch_size: int, checkpoint_path: str | os.PathLike | None = None,
                     checkpoint_every: int = 0) -> list[dict]:
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

    history = train_loop(step, steps, {"model": model, "optimizer": optimizer}, checkpoint_path,
                         checkpoint_every, desc="train classifier")
    model.eval()
    return history


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    model.eval()
    hits = sum((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
               for i in range(0, len(x), batch_size))
    return hits / len(x)
