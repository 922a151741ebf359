"""The diagonal FIM of the SD UNet over (image, prompt) pairs of the replay set.

The estimators are those of :mod:`sa.diffusion` (exact: per pair, the gradient of the loss summed
over all T timesteps, squared; sampled: K timesteps), applied to :class:`LatentDiffusion`. The
paper's authors published the FIM of SD v1.4 in the latent-diffusion code's parameter names;
:func:`import_ldm_fisher` renames it to diffusers' names.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from sa.diffusion import fisher_exact, fisher_sampled
from sa.sd.pipeline import LatentDiffusion, encode_prompts


def sd_fisher(model: LatentDiffusion, pipe, latents: torch.Tensor, prompts: list[str], method: str,
              timesteps_per_sample: int, timestep_batch: int, seed: int) -> dict[str, torch.Tensor]:
    """FIM of ``model``'s trainable parameters (names as in ``model.named_parameters()``)."""
    device = pipe.unet.device
    generator = torch.Generator(device).manual_seed(seed)
    x, c = latents.float().to(device), encode_prompts(pipe, prompts)
    if method == "exact":
        return fisher_exact(model, x, c, generator=generator, timestep_batch=timestep_batch)
    return fisher_sampled(model, x, c, timesteps_per_sample, generator=generator, timestep_batch=timestep_batch)


def _load_any(path: str | Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (pickle.UnpicklingError, RuntimeError):
        with open(path, "rb") as f:
            return pickle.load(f)


def import_ldm_fisher(path: str | Path, unet) -> dict[str, torch.Tensor]:
    """A FIM saved by the latent-diffusion code (keys ``diffusion_model.*`` or ``model.diffusion_model.*``)
    under the names of :class:`LatentDiffusion` (``unet.<diffusers name>``); every tensor's shape is checked."""
    from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint

    raw = _load_any(path)
    ldm = {("model." + k if k.startswith("diffusion_model.") else k): torch.as_tensor(v) for k, v in raw.items()}
    converted = convert_ldm_unet_checkpoint(ldm, dict(unet.config))
    params = dict(unet.named_parameters())
    missing = sorted(set(params) - set(converted))
    if missing:
        raise ValueError(f"{path}: no Fisher entry for {len(missing)} UNet parameters (e.g. {missing[0]}); "
                         "is it the FIM of this model?")
    for name, value in converted.items():
        if name not in params or value.shape == params[name].shape:
            continue
        if value.shape == params[name].shape[:2] and params[name].shape[2:] == (1, 1):
            converted[name] = value.reshape(params[name].shape)  # a 1x1 conv projection stored as linear
        else:
            raise ValueError(f"{path}: the Fisher entry of {name} has shape {tuple(value.shape)}, the UNet's "
                             f"{tuple(params[name].shape)}; is it the FIM of this model?")
    return {f"unet.{name}": converted[name].float() for name in params}
