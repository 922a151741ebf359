"""The Selective Amnesia objective (Eq. 4 of the paper) and its training loop.

    L = E_{q(x|c) p_f(c)} [ELBO(x|θ,c)] - λ/2 Σ_i F_i (θ_i - θ*_i)² + E_{p(x|c) p_r(c)} [ELBO(x|θ,c)]

The first term fits a surrogate q(x|c_f) (uniform noise by default) for the classes to forget,
the second keeps θ near the original θ* where the Fisher F says it matters, the third replays
samples of the remembered classes. The model maximises L; the optimiser minimises -L.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from sa.diffusion import EMA
from sa.training import Checkpoint, random_batch, train_loop

Batch = tuple[torch.Tensor, torch.Tensor]


def ewc_penalty(model: nn.Module, fisher: dict[str, torch.Tensor], anchor: dict[str, torch.Tensor]) -> torch.Tensor:
    """Σ_i F_i (θ_i - θ*_i)² over the parameters that have a Fisher entry."""
    params = dict(model.named_parameters())
    return sum((fisher[name] * (params[name] - anchor[name]).pow(2)).sum() for name in fisher)


def sa_objective(model: nn.Module, surrogate: Batch, replay: Batch | None, fisher: dict[str, torch.Tensor],
                 anchor: dict[str, torch.Tensor], lam: float) -> tuple[torch.Tensor, dict[str, float]]:
    """Eq. 4: returns L (to maximise) and its terms; ``replay=None`` drops the replay term (ablation)."""
    x_surrogate, c_forget = surrogate
    surrogate_elbo = model.elbo(x_surrogate, c_forget).mean()
    ewc = ewc_penalty(model, fisher, anchor)
    replay_elbo = model.elbo(*replay).mean() if replay is not None else torch.zeros(())

    objective = surrogate_elbo - lam / 2 * ewc + replay_elbo

    return objective, {"surrogate_elbo": surrogate_elbo.item(), "ewc": ewc.item(),
                       "replay_elbo": replay_elbo.item(), "objective": objective.item()}


def eq4_lambda(paper_lambda: float, elbo_summed_over_batch: bool, batch_size: int) -> float:
    """The λ of Eq. 4 (batch means, weight λ/2) equivalent to a λ reported in the paper.

    The paper's tables quote the λ of its released code, which adds λ Σ F_i (θ_i - θ*_i)² (no 1/2)
    to the negative ELBO terms; its VAE code also sums those terms over the batch rather than
    averaging them. Dividing that loss by the batch size (VAE) gives Eq. 4 with
    λ_eq4 = 2 λ / batch_size; for its DDPMs (batch means) λ_eq4 = 2 λ.
    """
    return 2 * paper_lambda / batch_size if elbo_summed_over_batch else 2 * paper_lambda


def uniform_surrogate(image_shape: tuple[int, ...], forget_classes: list[int], device=None) -> Callable[[int], Batch]:
    """q(x|c_f) = U[0, 1] on every pixel, with c_f drawn uniformly from the classes to forget."""
    classes = torch.tensor(forget_classes)

    def draw(batch_size: int) -> Batch:
        x = torch.rand(batch_size, *image_shape)
        c = classes[torch.randint(0, len(classes), (batch_size,))]
        return x.to(device), c.to(device)
    return draw


def replay_from_model(frozen: nn.Module, remember_classes: list[int], device=None) -> Callable[[int], Batch]:
    """Generative replay: fresh samples of the remembered classes from a frozen copy of θ*."""
    classes = torch.tensor(remember_classes)

    def draw(batch_size: int) -> Batch:
        c = classes[torch.randint(0, len(classes), (batch_size,))].to(device)
        return frozen.sample(c), c
    return draw


def replay_from_set(x: torch.Tensor, c: torch.Tensor, device=None) -> Callable[[int], Batch]:
    """Generative replay from a stored set of samples (for models that are expensive to sample)."""
    def draw(batch_size: int) -> Batch:
        idx = random_batch(len(x), batch_size)
        return x[idx].to(device), c[idx].to(device)
    return draw


def selective_amnesia(model: nn.Module, fisher: dict[str, torch.Tensor], surrogate: Callable[[int], Batch],
                      replay: Callable[[int], Batch] | None, lam: float, steps: int, lr: float,
                      batch_size: int, checkpoint: Checkpoint | None = None, log_every: int = 100,
                      average_gradients: Callable[[list[torch.Tensor]], None] | None = None,
                      ema_decay: float | None = None) -> list[dict]:
    """Train ``model``'s parameters that require grad (starting at θ*) to maximise Eq. 4 with Adam;
    the Fisher entries of frozen parameters are ignored. ``average_gradients`` (data parallelism,
    :mod:`sa.distributed`) averages the gradients over processes before each step. With ``ema_decay``
    the model ends with an exponential moving average of its weights over the steps (the paper's
    DDPM code samples from one), not the last step's weights. Returns the logged history."""
    trained = {name: p for name, p in model.named_parameters() if p.requires_grad}
    anchor = {name: p.detach().clone() for name, p in trained.items()}
    fisher = {name: f.to(anchor[name].device) for name, f in fisher.items() if name in trained}
    optimizer = torch.optim.Adam(list(trained.values()), lr=lr)
    model.train()

    def step(_: int) -> dict[str, float]:
        objective, terms = sa_objective(model, surrogate(batch_size), replay(batch_size) if replay else None,
                                        fisher, anchor, lam)
        optimizer.zero_grad(set_to_none=True)
        (-objective).backward()
        if average_gradients:
            average_gradients(list(trained.values()))
        optimizer.step()
        if ema:
            ema.update(model)
        return terms

    # The anchor is θ*, not the resumed weights: keep it in the checkpoint too.
    stateful = {"model": model, "optimizer": optimizer, "anchor": _TensorDict(anchor)}
    ema = EMA(model, ema_decay) if ema_decay else None
    if ema:
        stateful["ema"] = ema
    history = train_loop(step, steps, stateful, checkpoint, desc="forget", log_every=log_every)
    if ema:
        ema.copy_to(model)
    return history


class _TensorDict:
    """A dict of tensors with the state_dict protocol, so the loop can checkpoint it."""

    def __init__(self, tensors: dict[str, torch.Tensor]):
        self.tensors = tensors

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.tensors

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for name, tensor in state.items():
            self.tensors[name].copy_(tensor)
