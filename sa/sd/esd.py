"""Erased Stable Diffusion (ESD; Gandikota et al. 2023), the baseline of Tables 2-4.

ESD fine-tunes the UNet so that its noise prediction for the concept ``c`` follows negative
guidance from the frozen original ``θ*``:

    ε_θ(x_t, c, t)  ←  ε_θ*(x_t, t) - η [ε_θ*(x_t, c, t) - ε_θ*(x_t, t)]

where ``x_t`` is a partly denoised latent that the model being trained generates from ``c`` (DDIM,
guidance ``start_guidance``) in ``k`` steps, ``k`` drawn uniformly from the DDIM steps, and ``t``
the timestep it stops at. ESD-x trains the cross-attention layers, ESD-u the others.
Deviation from the ESD code: that code trains at a timestep drawn near ``1000 k / steps``, which does
not match the noise level of a latent denoised for ``k`` steps; here ``t`` is that latent's own timestep.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from sa.sd.pipeline import encode_prompts, latent_shape
from sa.training import Checkpoint, train_loop


def esd_target(frozen_unet, x_t: torch.Tensor, t: torch.Tensor, concept: torch.Tensor, empty: torch.Tensor,
               negative_guidance: float) -> torch.Tensor:
    """``ε_θ*(x_t, t) - η [ε_θ*(x_t, c, t) - ε_θ*(x_t, t)]`` from the frozen model."""
    with torch.no_grad():
        e_uncond = frozen_unet(x_t, t, encoder_hidden_states=empty).sample
        e_concept = frozen_unet(x_t, t, encoder_hidden_states=concept).sample
    return e_uncond - negative_guidance * (e_concept - e_uncond)


@torch.no_grad()
def sample_until(unet, scheduler, x: torch.Tensor, timesteps: torch.Tensor, concept: torch.Tensor,
                 empty: torch.Tensor, guidance: float) -> torch.Tensor:
    """Run the DDIM steps ``timesteps`` from ``x`` with classifier-free guidance toward ``concept``."""
    for t in timesteps:
        e_uncond, e_concept = unet(torch.cat([x, x]), t, encoder_hidden_states=torch.cat([empty, concept])).sample.chunk(2)
        x = scheduler.step(e_uncond + guidance * (e_concept - e_uncond), t, x).prev_sample
    return x


def erase_concept(pipe, prompts: list[str], iterations: int, lr: float, resolution: int,
                  negative_guidance: float = 1.0, start_guidance: float = 3.0, ddim_steps: int = 50,
                  checkpoint: Checkpoint | None = None, log_every: int = 50) -> list[dict]:
    """Train ``pipe.unet`` (its ``requires_grad`` parameters) with the ESD objective, one latent per
    iteration and one of ``prompts`` drawn uniformly; returns the logged history."""
    unet = pipe.unet
    frozen = copy.deepcopy(unet).requires_grad_(False).eval()
    scheduler = copy.deepcopy(pipe.scheduler)
    scheduler.set_timesteps(ddim_steps)
    concepts, empty = encode_prompts(pipe, prompts), encode_prompts(pipe, [""])
    shape = (1, *latent_shape(pipe, resolution))
    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    device = unet.device

    def step(_: int) -> dict[str, float]:
        k = int(torch.randint(0, ddim_steps, ()))
        concept = concepts[int(torch.randint(0, len(concepts), ()))][None]
        unet.eval()
        x_t = sample_until(unet, scheduler, torch.randn(shape).to(device), scheduler.timesteps[:k], concept, empty,
                           start_guidance)
        t = scheduler.timesteps[k].reshape(1).to(device)
        target = esd_target(frozen, x_t, t, concept, empty, negative_guidance)
        unet.train()
        loss = F.mse_loss(unet(x_t, t, encoder_hidden_states=concept).sample, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"esd_loss": loss.item(), "stop_step": float(k)}

    return train_loop(step, iterations, {"unet": unet, "optimizer": optimizer}, checkpoint, desc="ESD",
                      log_every=log_every)
