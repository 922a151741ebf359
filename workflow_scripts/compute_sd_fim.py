"""The diagonal FIM of the base SD UNet over the replay set, or a precomputed one imported."""
from pathlib import Path

import torch

from sa.io import load_torch, resolve_device, save_json, save_torch
from sa.runtime import start_job
from sa.sd.fisher import import_ldm_fisher, sd_fisher
from sa.sd.pipeline import LatentDiffusion, load_pipeline

p = snakemake.params
settings = p.fim
log = start_job(snakemake.log[0], seed=settings["seed"], threads=snakemake.threads)
pipe = load_pipeline(Path(snakemake.input.model).parent, resolve_device(p.device))

if settings["method"] == "precomputed":
    log.info("importing the FIM in %s", snakemake.input.precomputed)
    fisher = import_ldm_fisher(snakemake.input.precomputed, pipe.unet)
else:
    replay = load_torch(snakemake.input.replay)
    n = min(settings["samples"], len(replay["latents"]))
    log.info("FIM (%s) of the UNet over %d replay images", settings["method"], n)
    model = LatentDiffusion.from_pipeline(pipe, p.resolution)
    fisher = sd_fisher(model, pipe, replay["latents"][:n], replay["prompts"][:n], settings["method"],
                       settings["timesteps_per_sample"], settings["timestep_batch"], settings["seed"])
fisher = {name: f.cpu() for name, f in fisher.items()}
values = torch.cat([f.flatten() for f in fisher.values()])
summary = {"settings": settings, "parameters": values.numel(), "mean": values.mean().item(),
           "max": values.max().item(), "finite": bool(torch.isfinite(values).all())}
log.info("FIM summary: %s", summary)
save_torch(fisher, snakemake.output.fisher)
save_json(summary, snakemake.output.summary)
