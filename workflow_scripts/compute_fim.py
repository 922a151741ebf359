"""Diagonal Fisher of the original model's ELBO on samples from that model."""
import torch

from sa.diffusion import fisher_exact, fisher_sampled
from sa.fisher import diagonal_fisher, draw_model_samples, fisher_summary, negative_elbo
from sa.io import load_torch, resolve_device, save_json, save_torch
from sa.models import load_model
from sa.runtime import start_job
from sa.sampling import to_float

p = snakemake.params
fim = p.fim
log = start_job(snakemake.log[0], seed=fim["seed"], threads=snakemake.threads)
device = resolve_device(p.device)
model, blob = load_model(snakemake.input.model)
model.to(device)
generator = torch.Generator(device=device).manual_seed(fim["seed"])

if blob["build_args"]["kind"] == "vae":
    samples = tuple(t.to(device) for t in draw_model_samples(model, fim["samples"], model.num_classes, generator))
    fisher = diagonal_fisher(model, negative_elbo, samples, fim["chunk_size"], fim["method"])
else:
    replay = load_torch(snakemake.input.replay)
    order = torch.randperm(len(replay["labels"]), generator=torch.Generator().manual_seed(fim["seed"]))
    chosen = order[:fim["samples"]]
    x, c = to_float(replay["images"][chosen]).to(device), replay["labels"][chosen].to(device)
    if fim["method"] == "exact":
        fisher = fisher_exact(model, x, c, generator=generator, timestep_batch=fim["chunk_size"])
    else:
        fisher = fisher_sampled(model, x, c, fim["timesteps_per_sample"], generator=generator,
                                timestep_batch=fim["chunk_size"])
summary = {**fim, **fisher_summary(fisher)}
log.info("FIM: %s", summary)

save_torch({name: f.cpu() for name, f in fisher.items()}, snakemake.output.fisher)
save_json(summary, snakemake.output.summary)
