"""Batches of (latents, text embeddings) for the SA objective in Stable Diffusion."""

from __future__ import annotations

from typing import Callable

import torch

from sa.sd.pipeline import encode_prompts
from sa.training import random_batch


def prompt_set_sampler(pipe, latents: torch.Tensor, prompts: list[str],
                       paired: bool = False) -> Callable[[int], tuple[torch.Tensor, torch.Tensor]]:
    """``draw(batch_size)``: latents drawn with replacement, each with its prompt's embeddings.

    ``paired``: ``prompts[i]`` is the prompt of ``latents[i]`` (the replay set). Otherwise every
    latent is conditioned on one of ``prompts`` drawn uniformly: the surrogate set q(x|c_f) under the
    prompt(s) to forget. Draws use the global RNG, so a resumed checkpoint continues the sequence.
    """
    device = pipe.unet.device
    if paired and len(prompts) != len(latents):
        raise ValueError(f"{len(latents)} latents but {len(prompts)} prompts")

    def draw(batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = random_batch(len(latents), batch_size)
        chosen = idx if paired else random_batch(len(prompts), batch_size)
        return latents[idx].float().to(device), encode_prompts(pipe, [prompts[i] for i in chosen.tolist()])
    return draw
