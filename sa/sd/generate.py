"""Image and latent sets from a text-to-image pipeline, one seed per image, resumable.

Every image starts from latents drawn on the CPU from its own seed, so a set does not depend on
the batch size or the device (up to floating-point rounding), and the I2P benchmark's per-prompt
seeds are honoured. Batches are written to a ``.partial`` folder beside the output as they
finish; a restarted job skips them, and only a complete set is moved to the output path.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Iterator, Protocol

import torch
from tqdm.auto import tqdm

from sa.io import load_json, load_torch, save_json, save_torch
from sa.sd.pipeline import latent_shape

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"

# Safe Latent Diffusion's "medium" hyperparameters (Schramowski et al. 2023; diffusers' SafetyConfig.MEDIUM).
SLD_MEDIUM = {"sld_warmup_steps": 10, "sld_guidance_scale": 1000, "sld_threshold": 0.01, "sld_momentum_scale": 0.3,
              "sld_mom_beta": 0.4}


class Job(Protocol):
    prompt: str
    seed: int
    guidance_scale: float | None


def initial_latents(pipe, seeds: list[int], resolution: int) -> torch.Tensor:
    shape = latent_shape(pipe, resolution)
    return torch.stack([torch.randn(shape, generator=torch.Generator().manual_seed(s)) for s in seeds])


def _guidance(job: Job, default: float) -> float:
    return default if job.guidance_scale is None else job.guidance_scale


def batches(jobs: list[Job], batch_size: int, default_guidance: float) -> Iterator[tuple[int, int, float]]:
    """``(start, stop, guidance)`` of consecutive jobs that share a guidance scale, ``batch_size`` at most."""
    start = 0
    while start < len(jobs):
        guidance = _guidance(jobs[start], default_guidance)
        stop = start + 1
        while stop < len(jobs) and stop - start < batch_size and _guidance(jobs[stop], default_guidance) == guidance:
            stop += 1
        yield start, stop, guidance
        start = stop


@torch.no_grad()
def _run(pipe, jobs: list[Job], steps: int, guidance: float, resolution: int, output_type: str,
         sld_concept: str | None):
    latents = initial_latents(pipe, [j.seed for j in jobs], resolution).to(pipe.device, pipe.unet.dtype)
    extra = {}
    if sld_concept is not None:
        pipe.safety_concept = sld_concept
        extra = SLD_MEDIUM
    return pipe([j.prompt for j in jobs], height=resolution, width=resolution, num_inference_steps=steps,
                guidance_scale=guidance, latents=latents, output_type=output_type, **extra)


def _partial_batches(jobs, batch_size, default_guidance, partial: Path, suffix: str, desc: str, settings: dict):
    """The batches still to do, with a progress bar over all of them; those done are in ``partial``,
    unless another run's ``settings`` wrote them (then they are discarded)."""
    stamp = partial / SETTINGS_FILE
    settings = {**settings, "jobs": [[j.prompt, j.seed, j.guidance_scale] for j in jobs], "batch_size": batch_size,
                "guidance_scale": default_guidance}
    if partial.exists() and (not stamp.exists() or load_json(stamp) != json.loads(json.dumps(settings))):
        log.warning("discarding %s: it was written with other settings", partial)
        shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    save_json(settings, stamp)
    todo = list(batches(jobs, batch_size, default_guidance))
    done = sum(1 for start, _, _ in todo if (partial / f"{start:06d}{suffix}").exists())
    if done:
        log.info("resuming %s: %d of %d batches already in %s", desc, done, len(todo), partial)
    for start, stop, guidance in tqdm(todo, desc=desc, mininterval=2.0):
        if not (partial / f"{start:06d}{suffix}").exists():
            yield start, stop, guidance


def write_image_set(pipe, jobs: list[Job], out_dir: str | os.PathLike, steps: int, guidance_scale: float,
                    resolution: int, batch_size: int, sld_concept: str | None = None, desc: str = "images",
                    source: str = "") -> Path:
    """PNG images ``000000.png``... of ``jobs`` in ``out_dir`` with ``index.json`` (prompt, seed,
    guidance of each file). ``sld_concept`` guides away from a concept (pipe must be SLD's).
    ``source`` identifies the model's weights, so that a resumed run never mixes two models' images."""
    out_dir = Path(out_dir)
    partial = out_dir.with_name(out_dir.name + ".partial")
    settings = {"steps": steps, "resolution": resolution, "sld_concept": sld_concept, "source": source}
    for start, stop, guidance in _partial_batches(jobs, batch_size, guidance_scale, partial, ".done", desc, settings):
        images = _run(pipe, jobs[start:stop], steps, guidance, resolution, "pil", sld_concept).images
        for i, image in enumerate(images, start):
            image.save(partial / f"{i:06d}.png")
        (partial / f"{start:06d}.done").touch()
    index = [{"file": f"{i:06d}.png", "prompt": j.prompt, "seed": j.seed,
              "guidance_scale": _guidance(j, guidance_scale)} for i, j in enumerate(jobs)]
    for marker in [*partial.glob("*.done"), partial / SETTINGS_FILE]:
        marker.unlink()
    save_json(index, partial / "index.json")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(partial, out_dir)
    return out_dir


def read_image_set(folder: str | os.PathLike) -> list[dict]:
    """The index of an image set, each entry with its ``path``."""
    folder = Path(folder)
    return [{**entry, "path": str(folder / entry["file"])} for entry in load_json(folder / "index.json")]


def write_latent_set(pipe, jobs: list[Job], path: str | os.PathLike, steps: int, guidance_scale: float,
                     resolution: int, batch_size: int, desc: str = "latents", source: str = "") -> None:
    """The final latents of ``jobs`` (what the UNet trains on, before the VAE decodes them) in one
    file: ``{"latents": [N, 4, h, w] float16, "prompts": [...], "seeds": [...]}``."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    settings = {"steps": steps, "resolution": resolution, "source": source}
    for start, stop, guidance in _partial_batches(jobs, batch_size, guidance_scale, partial, ".pt", desc, settings):
        latents = _run(pipe, jobs[start:stop], steps, guidance, resolution, "latent", None).images
        save_torch(latents.half().cpu(), partial / f"{start:06d}.pt")
    chunks = [load_torch(f) for f in sorted(partial.glob("*.pt"))]
    save_torch({"latents": torch.cat(chunks), "prompts": [j.prompt for j in jobs], "seeds": [j.seed for j in jobs]},
               path)
    shutil.rmtree(partial)
