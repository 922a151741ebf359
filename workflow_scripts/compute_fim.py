"""Diagonal Fisher of the original model's ELBO on samples drawn from that model."""
import torch

from sa.fisher import diagonal_fisher, draw_model_samples, fisher_summary, negative_elbo
from sa.io import resolve_device, save_json, save_torch
from sa.models import load_model
from sa.runtime import start_job

p = snakemake.params
log = start_job(snakemake.log[0], seed=p.fim["seed"], threads=snakemake.threads)
device = resolve_device(p.device)
model, _ = load_model(snakemake.input[0])
model.to(device)

generator = torch.Generator(device=device).manual_seed(p.fim["seed"])
samples = tuple(t.to(device) for t in draw_model_samples(model, p.fim["samples"], model.num_classes, generator))
fisher = diagonal_fisher(model, negative_elbo, samples, p.fim["chunk_size"], p.fim["method"])
summary = {"samples": p.fim["samples"], "method": p.fim["method"], **fisher_summary(fisher)}
log.info("FIM over %d samples: %s", p.fim["samples"], summary)

save_torch({name: f.cpu() for name, f in fisher.items()}, snakemake.output.fisher)
save_json(summary, snakemake.output.summary)
