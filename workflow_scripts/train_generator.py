"""Train a conditional generative model: θ* of an experiment, or the baseline without c_f."""
import torch

from sa.data import dataset_info, load_split
from sa.io import resolve_device, save_json
from sa.models import build_generator, save_model
from sa.runtime import config_hash, start_job
from sa.train import train_ddpm, train_vae
from sa.training import Checkpoint

p = snakemake.params
train = p.train
log = start_job(snakemake.log[0], seed=train["seed"], threads=snakemake.threads)
device = resolve_device(p.device)
info = dataset_info(p.dataset)
x, y = load_split(snakemake.input[0], "train")
keep = ~torch.isin(y, torch.tensor(p.exclude_classes, dtype=torch.long))
x, y = x[keep].to(device), y[keep].to(device)

model = build_generator(p.kind, p.model, info).to(device)
log.info("%s: %s with %d parameters on %d training images (classes excluded: %s)", snakemake.wildcards.exp,
         p.kind, sum(t.numel() for t in model.parameters()), len(x), p.exclude_classes or "none")
checkpoint = Checkpoint(snakemake.output.model + ".ckpt", p.checkpoint_every,
                        config_hash([p.model, train, p.exclude_classes]))
if p.kind == "vae":
    history = train_vae(model, x, y, train["steps"], train["lr"], train["batch_size"], checkpoint)
else:
    history = train_ddpm(model, x, y, train["steps"], train["lr"], train["batch_size"], train["ema_decay"],
                         train["p_uncond"], train["grad_clip"], checkpoint)

build_args = {"role": "generator", "kind": p.kind, "dataset": p.dataset, "spec": p.model}
save_model(model.cpu(), build_args, snakemake.output.model, excluded_classes=p.exclude_classes)
save_json({"history": history}, snakemake.output.history)
checkpoint.clear()
