"""Class-conditional DDPM (Appendix B.1): schedule, loss, samplers, EMA and the diagonal FIM.

:class:`Diffusion` wraps a :class:`~sa.models.unet.ConditionalUNet` and offers the interface of
:class:`~sa.models.cvae.ConditionalVAE` (``elbo``, ``noise_shape``, ``sample``), so Selective
Amnesia treats both model kinds alike. Images are ``[B, C, H, W]`` floats in [0, 1] outside and
in [-1, 1] inside.

Loss convention: the simplified objective of Ho et al., ``L_t = sum over pixels of
(eps - eps_theta(x_t, t, c))^2``, summed over pixels as the paper's code does, so that the
paper's values of lambda keep their meaning.

Classifier-free guidance (Ho & Salimans 2022, the paper's code):
``eps = (1 + w) * eps(x_t, c) - w * eps(x_t, null)`` with ``w = guidance_scale`` (2.0 in the
paper); ``w = 0`` is the plain conditional model. In the other common parameterisation,
``eps_uncond + s * (eps_cond - eps_uncond)``, this is ``s = 1 + w``.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import torch
from torch import nn
from tqdm.auto import tqdm

from sa.models.unet import ConditionalUNet


def linear_beta_schedule(timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """``beta_1..beta_T`` evenly spaced (Ho et al.), in float64."""
    return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """Dropout off inside the block, so sampling and the FIM depend on their noise alone."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


class Diffusion(nn.Module):
    """A DDPM: the noise-predicting U-Net plus its linear beta schedule and sampler settings.

    ``sampler`` is ``ddpm`` (ancestral, posterior variance ``beta~_t``) or ``ddim`` (eta = 0);
    both run ``sampling_steps`` evenly spaced steps (default all ``timesteps``) and clip the
    predicted ``x0`` to [-1, 1] at every step, as Ho et al. do. DDPM with fewer steps than
    ``timesteps`` samples the respaced chain of Nichol & Dhariwal (2021).
    """

    def __init__(self, unet: ConditionalUNet, timesteps: int = 1000, beta_start: float = 1e-4,
                 beta_end: float = 0.02, sampler: str = "ddpm", sampling_steps: int | None = None,
                 guidance_scale: float = 2.0):
        super().__init__()
        if sampler not in ("ddpm", "ddim"):
            raise ValueError(f"unknown sampler {sampler!r}; use ddpm or ddim")
        self.unet = unet
        self.image_shape = unet.image_shape
        self.num_classes = unet.num_classes
        self.timesteps = timesteps
        self.sampler = sampler
        self.sampling_steps = sampling_steps or timesteps
        self.guidance_scale = guidance_scale
        # Derived from the arguments, so not saved in the state dict.
        alphas_cumprod = torch.cumprod(1 - linear_beta_schedule(timesteps, beta_start, beta_end), 0)
        self.register_buffer("alphas_cumprod", alphas_cumprod.float(), persistent=False)

    def loss(self, x: torch.Tensor, c: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Per-sample ``L_t``: the sum over pixels of the squared noise-prediction error."""
        abar = self.alphas_cumprod[t][:, None, None, None]
        x_t = abar.sqrt() * (2 * x - 1) + (1 - abar).sqrt() * eps
        return (eps - self.unet(x_t, t, c)).pow(2).sum(dim=(1, 2, 3))

    def elbo(self, x: torch.Tensor, c: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample "ELBO" ``-L_t`` at one random timestep ``t``. Its mean over ``t`` is minus the
        simplified objective of Ho et al., their unweighted stand-in for the ELBO.

        ``noise`` (shape ``noise_shape(B)``, all standard normal) fixes the randomness: its first
        ``C*H*W`` columns are ``eps``, its last column ``z`` gives ``t = floor(T * Phi(z))``, uniform
        on ``0..T-1``. All of it is tensor arithmetic, so ``vmap`` works (in eval mode: dropout
        is random and vmap refuses it).
        """
        if noise is None:
            noise = torch.randn(*self.noise_shape(len(x)), device=x.device)
        eps = noise[:, :-1].reshape(x.shape)
        t = (torch.special.ndtr(noise[:, -1]) * self.timesteps).long().clamp(max=self.timesteps - 1)
        return -self.loss(x, c, t, eps)

    def noise_shape(self, batch: int) -> tuple[int, ...]:
        c, h, w = self.image_shape
        return (batch, c * h * w + 1)

    def training_loss(self, x: torch.Tensor, c: torch.Tensor, p_uncond: float = 0.1,
                      generator: torch.Generator | None = None) -> torch.Tensor:
        """Batch mean of ``L_t`` with ``t`` uniform and the class replaced by null with probability ``p_uncond``."""
        n, device = len(x), x.device
        t = torch.randint(0, self.timesteps, (n,), generator=generator, device=device)
        eps = torch.randn(x.shape, generator=generator, device=device)
        drop = torch.rand(n, generator=generator, device=device) < p_uncond
        c = torch.where(drop, torch.full_like(c, self.num_classes), c)
        return self.loss(x, c, t, eps).mean()

    def guided_eps(self, x_t: torch.Tensor, t: int, c: torch.Tensor) -> torch.Tensor:
        """The classifier-free guided noise prediction at timestep ``t`` (formula in the module docstring)."""
        w = self.guidance_scale
        t_batch = torch.full((len(x_t),), t, device=x_t.device, dtype=torch.long)
        if w == 0:
            return self.unet(x_t, t_batch, c)
        null = torch.full_like(c, self.num_classes)
        eps_cond, eps_uncond = self.unet(torch.cat([x_t, x_t]), torch.cat([t_batch, t_batch]),
                                         torch.cat([c, null])).chunk(2)
        return (1 + w) * eps_cond - w * eps_uncond

    @torch.no_grad()
    def sample(self, c: torch.Tensor, generator: torch.Generator | None = None, batch_size: int = 256,
               progress: bool = True) -> torch.Tensor:
        """Images in [0, 1] for the classes ``c``, generated ``batch_size`` at a time in eval mode.

        Deterministic for a given generator state and ``batch_size``.
        """
        steps = torch.linspace(0, self.timesteps - 1, self.sampling_steps).round().long().flip(0).tolist()
        batches = c.split(batch_size)
        with eval_mode(self), tqdm(total=len(batches) * len(steps), desc=f"sampling ({self.sampler})",
                                   disable=not progress, mininterval=2.0) as bar:
            return torch.cat([self._sample_batch(cb, steps, generator, bar) for cb in batches])

    def _sample_batch(self, c: torch.Tensor, steps: list[int], generator: torch.Generator | None,
                      bar: tqdm) -> torch.Tensor:
        x = torch.randn(len(c), *self.image_shape, generator=generator, device=c.device)
        one = self.alphas_cumprod.new_tensor(1.0)
        for t, t_prev in zip(steps, steps[1:] + [-1]):
            abar = self.alphas_cumprod[t]
            abar_prev = self.alphas_cumprod[t_prev] if t_prev >= 0 else one
            eps = self.guided_eps(x, t, c)
            x0 = ((x - (1 - abar).sqrt() * eps) / abar.sqrt()).clamp(-1, 1)
            if self.sampler == "ddim":
                eps = (x - abar.sqrt() * x0) / (1 - abar).sqrt()  # the eps consistent with the clipped x0
                x = abar_prev.sqrt() * x0 + (1 - abar_prev).sqrt() * eps
            else:
                # The posterior q(x_prev | x_t, x0); beta is beta_t when the steps are consecutive.
                beta = 1 - abar / abar_prev
                mean = (abar_prev.sqrt() * beta * x0 + (1 - beta).sqrt() * (1 - abar_prev) * x) / (1 - abar)
                variance = beta * (1 - abar_prev) / (1 - abar)
                x = mean + variance.sqrt() * torch.randn(x.shape, generator=generator, device=x.device)
            bar.update()
        return ((x + 1) / 2).clamp(0, 1)


class EMA:
    """Exponential moving average of a module's parameters (``decay`` 0.9999 in the paper).

    Create it after moving the module to its device: the averages live where the parameters were.
    """

    def __init__(self, model: nn.Module, decay: float = 0.9999):
        self.decay = decay
        self.shadow = {name: p.detach().clone() for name, p in model.named_parameters()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for name, p in model.named_parameters():
            self.shadow[name].lerp_(p.detach(), 1 - self.decay)

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        for name, p in model.named_parameters():
            p.copy_(self.shadow[name])

    def state_dict(self) -> dict:
        return {"decay": self.decay, "shadow": {name: t.clone() for name, t in self.shadow.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.decay = state["decay"]
        self.shadow = {name: t.clone() for name, t in state["shadow"].items()}


# The diagonal FIM of the paper's code for diffusion: for each sample, the gradient of the loss
# summed over all T timesteps (one fixed eps per timestep), squared; averaged over samples.

def fisher_exact(model: Diffusion, x: torch.Tensor, c: torch.Tensor, generator: torch.Generator | None = None,
                 noise: torch.Tensor | None = None, timestep_batch: int = 100,
                 progress: bool = True) -> dict[str, torch.Tensor]:
    """``F = 1/N sum_n (grad sum_{t=0}^{T-1} L_t(x_n, c_n, eps_{n,t}))^2``, diagonal, in eval mode.

    ``noise`` ``[N, T, C, H, W]`` gives the ``eps_{n,t}``; without it each sample draws its
    ``[T, C, H, W]`` from ``generator`` in turn. The sample is replicated over ``timestep_batch``
    timesteps at a time: one forward and backward per chunk instead of one per timestep.
    Returns parameter name (as in ``model.named_parameters()``) to FIM.
    """
    def per_sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        eps = noise[n] if noise is not None else torch.randn(
            model.timesteps, *model.image_shape, generator=generator, device=x.device)
        return torch.arange(model.timesteps, device=x.device), eps

    return _fisher(model, x, c, per_sample, 1.0, timestep_batch, progress, "FIM (exact)")


def fisher_sampled(model: Diffusion, x: torch.Tensor, c: torch.Tensor, k: int,
                   generator: torch.Generator | None = None, noise: torch.Tensor | None = None,
                   timestep_batch: int = 100, progress: bool = True) -> dict[str, torch.Tensor]:
    """The FIM of :func:`fisher_exact` with each sample's sum over T timesteps replaced by
    ``T/K`` times a sum over ``K`` timesteps drawn uniformly with replacement from ``generator``.

    ``T/K * sum_k grad L_{t_k}`` is unbiased for the per-sample gradient ``g``, but its square is
    not for ``g^2``: ``E[g_hat^2] = g^2 + Var(g_hat)`` with ``Var(g_hat) = T^2/K * Var_t(grad L_t)``,
    so this estimator overstates every Fisher entry, by a bias that shrinks as ``1/K``.
    ``noise`` ``[N, T, C, H, W]`` (the table :func:`fisher_exact` takes) supplies ``eps_{n,t}``
    for the drawn timesteps; without it the ``eps`` come from ``generator`` as well.
    """
    def per_sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.randint(0, model.timesteps, (k,), generator=generator, device=x.device)
        eps = noise[n, t] if noise is not None else torch.randn(
            k, *model.image_shape, generator=generator, device=x.device)
        return t, eps

    return _fisher(model, x, c, per_sample, model.timesteps / k, timestep_batch, progress, f"FIM (K={k})")


def _fisher(model: Diffusion, x: torch.Tensor, c: torch.Tensor,
            per_sample: Callable[[int], tuple[torch.Tensor, torch.Tensor]], scale: float,
            timestep_batch: int, progress: bool, desc: str) -> dict[str, torch.Tensor]:
    """Mean over samples of ``(scale * grad sum_i L_{t_i}(x_n, eps_i))^2``, ``(t, eps) = per_sample(n)``."""
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    with eval_mode(model):
        for n in tqdm(range(len(x)), desc=desc, disable=not progress, mininterval=2.0):
            t, eps = per_sample(n)
            grads = [torch.zeros_like(p) for p in params.values()]
            for t_chunk, eps_chunk in zip(t.split(timestep_batch), eps.split(timestep_batch)):
                m = len(t_chunk)
                loss = model.loss(x[n].expand(m, *x.shape[1:]), c[n].expand(m, *c.shape[1:]), t_chunk, eps_chunk).sum()
                for g, dg in zip(grads, torch.autograd.grad(loss, list(params.values()))):
                    g += dg
            for f, g in zip(fisher.values(), grads):
                f += (scale * g).pow(2)
    return {name: f / len(x) for name, f in fisher.items()}
