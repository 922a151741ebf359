"""A step loop with a progress bar and resumable checkpoints.

A checkpoint holds the modules, the optimisers, the step, the history and the torch RNG state,
so a job killed and restarted from its last checkpoint ends with exactly the weights of an
uninterrupted run (on CPU, for a fixed seed).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from tqdm.auto import tqdm

from sa.io import load_torch, save_torch

log = logging.getLogger(__name__)


def _rng_state() -> dict:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass(frozen=True)
class Checkpoint:
    """Where and how often a loop saves its state. ``fingerprint`` identifies the run's settings:
    a checkpoint left by a run with other settings is ignored, not resumed."""

    path: str | os.PathLike
    every: int
    fingerprint: str = ""

    def clear(self) -> None:
        Path(self.path).unlink(missing_ok=True)


def train_loop(step_fn: Callable[[int], dict[str, float]], steps: int, stateful: dict,
               checkpoint: Checkpoint | None = None, desc: str = "train", log_every: int = 100) -> list[dict]:
    """Call ``step_fn(step)`` for ``steps`` steps; returns the history logged every ``log_every``.

    ``stateful`` maps names to objects with ``state_dict``/``load_state_dict`` (modules,
    optimisers) that a checkpoint must carry.
    """
    start, history = 0, []
    checkpoint_path = Path(checkpoint.path) if checkpoint and checkpoint.every else None
    blob = load_torch(checkpoint_path) if checkpoint_path and checkpoint_path.exists() else None
    if blob is not None and blob.get("fingerprint") != checkpoint.fingerprint:
        log.warning("ignoring %s: it was written by a run with other settings", checkpoint_path)
        blob = None
    if blob is not None:
        for name, obj in stateful.items():
            obj.load_state_dict(blob["state"][name])
        _set_rng_state(blob["rng"])
        start, history = blob["step"], blob["history"]
        log.info("resumed %s from %s at step %d/%d", desc, checkpoint_path, start, steps)

    bar = tqdm(range(start, steps), desc=desc, initial=start, total=steps, mininterval=2.0)
    for step in bar:
        metrics = step_fn(step)
        if step % log_every == 0 or step == steps - 1:
            history.append({"step": step, **metrics})
            bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()})
            log.info("%s step %d: %s", desc, step, ", ".join(f"{k}={v:.5g}" for k, v in metrics.items()))
        done = step + 1
        if checkpoint_path and done % checkpoint.every == 0 and done < steps:
            save_torch({"state": {n: o.state_dict() for n, o in stateful.items()}, "rng": _rng_state(),
                        "step": done, "history": history, "fingerprint": checkpoint.fingerprint},
                       checkpoint_path)
    return history


def random_batch(n: int, batch_size: int) -> torch.Tensor:
    """Indices of a batch drawn with replacement from the global RNG (so checkpoints capture it)."""
    return torch.randint(0, n, (batch_size,))
