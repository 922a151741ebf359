"""Diagonal Fisher information: the mean over samples of the squared per-sample gradient.

``F_i = 1/N sum_n (d loss(x_n) / d theta_i)^2``, with the samples drawn from the model itself.
The plain way is one backward pass per sample (the reference loop in the tests). Two faster
estimators give the same numbers:

- ``outer``: for a model whose parameters all sit in ``nn.Linear`` layers applied once per
  sample (the MLP VAE), the per-sample weight gradient is the outer product ``g_n a_n^T`` of
  the layer's output gradient and input, so its square summed over samples is
  ``(G*G)^T (A*A)``: one batched forward and backward per chunk, no per-sample gradients kept.
- ``vmap``: any model, per-sample gradients from ``torch.func`` (``vmap`` over ``grad``).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from tqdm.auto import tqdm


class _Objective(nn.Module):
    """Makes ``objective(model, *inputs)`` the forward of a module, for ``functional_call``."""

    def __init__(self, model: nn.Module, objective: Callable):
        super().__init__()
        self.model = model
        self.objective = objective

    def forward(self, *inputs):
        return self.objective(self.model, *inputs)


def diagonal_fisher(model: nn.Module, objective: Callable[..., torch.Tensor],
                    samples: tuple[torch.Tensor, ...], chunk_size: int = 256,
                    method: str = "auto", progress: bool = True) -> dict[str, torch.Tensor]:
    """Diagonal FIM of ``objective`` over the rows of ``samples``.

    ``objective(model, *batch)`` returns one loss per row of the batch (for example the negative
    ELBO), each row's loss depending on that row alone; the FIM is the mean over rows of the
    squared gradient of that row's loss. Randomness inside the objective must come in through
    ``samples`` (for example the reparameterisation noise), so that the estimate is a
    deterministic function of them. ``method`` is ``outer``, ``vmap`` or ``auto`` (``outer``
    where the model allows it).
    """
    if method == "auto":
        method = "outer" if _only_linear_parameters(model) else "vmap"
    if method == "outer":
        return _outer_product_fisher(model, objective, samples, chunk_size, progress)
    if method != "vmap":
        raise ValueError(f"unknown FIM method {method!r}; use auto, outer or vmap")
    return _vmap_fisher(model, objective, samples, chunk_size, progress)


def _only_linear_parameters(model: nn.Module) -> bool:
    in_linear = {id(p) for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters()}
    return all(id(p) in in_linear for p in model.parameters() if p.requires_grad)


def _outer_product_fisher(model, objective, samples, chunk_size, progress):
    if not _only_linear_parameters(model):
        raise ValueError("the outer-product FIM needs every trainable parameter in an nn.Linear; use method=vmap")
    names = {m: name for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    captured: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}

    def keep_input_and_output(module, inputs, output):
        if module in captured:
            raise ValueError(f"layer {names[module]} runs twice per forward; the outer-product FIM "
                             "needs each layer once per sample; use method=vmap")
        if output.dim() != 2:
            raise ValueError(f"layer {names[module]} sees {output.dim()}-d input; the outer-product FIM "
                             "needs one row per sample; use method=vmap")
        captured[module] = (inputs[0].detach(), output)

    hooks = [m.register_forward_hook(keep_input_and_output) for m in names]
    fisher = {f"{names[m]}.{p}": torch.zeros_like(t) for m in names for p, t in m.named_parameters()}
    n = len(samples[0])
    try:
        for start in tqdm(range(0, n, chunk_size), desc="FIM", disable=not progress, mininterval=2.0):
            captured.clear()
            losses = objective(model, *(t[start:start + chunk_size] for t in samples))
            layers = list(captured)
            grads = torch.autograd.grad(losses.sum(), [captured[m][1] for m in layers])
            for module, g in zip(layers, grads):
                a, g2 = captured[module][0], g.detach().pow(2)
                fisher[f"{names[module]}.weight"] += g2.T @ a.pow(2)
                if module.bias is not None:
                    fisher[f"{names[module]}.bias"] += g2.sum(0)
    finally:
        for hook in hooks:
            hook.remove()
    return {name: f / n for name, f in fisher.items()}


def _vmap_fisher(model, objective, samples, chunk_size, progress):
    wrapper = _Objective(model, objective)
    params = {name: p.detach() for name, p in wrapper.named_parameters() if p.requires_grad}
    buffers = {name: b for name, b in wrapper.named_buffers()}

    def loss_of_one(p, *row):
        batch = tuple(t.unsqueeze(0) for t in row)
        return functional_call(wrapper, (p, buffers), batch).sum()

    per_sample_grads = vmap(grad(loss_of_one), in_dims=(None, *([0] * len(samples))))
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    n = len(samples[0])
    for start in tqdm(range(0, n, chunk_size), desc="FIM", disable=not progress, mininterval=2.0):
        chunk = tuple(t[start:start + chunk_size] for t in samples)
        for name, g in per_sample_grads(params, *chunk).items():
            fisher[name] += g.pow(2).sum(0)
    prefix = "model."
    return {name[len(prefix):]: f / n for name, f in fisher.items()}


def negative_elbo(model: nn.Module, x: torch.Tensor, c: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The per-sample loss whose Fisher the paper uses for the VAE."""
    return -model.elbo(x, c, noise)


@torch.no_grad()
def draw_model_samples(model: nn.Module, n: int, num_classes: int,
                       generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
    """``(x, c, noise)``: classes uniform, images from the model, and the ELBO's reparameterisation noise."""
    c = torch.randint(0, num_classes, (n,), generator=generator)
    x = model.sample(c, generator=generator)
    noise = torch.randn(*model.noise_shape(n), generator=generator)
    return x, c, noise


def fisher_summary(fisher: dict[str, torch.Tensor]) -> dict[str, float]:
    flat = torch.cat([f.flatten() for f in fisher.values()])
    return {"num_params": flat.numel(), "mean": flat.mean().item(), "max": flat.max().item(),
            "median": flat.median().item()}
