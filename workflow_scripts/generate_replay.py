"""Samples of every class from the original model, stored for the FIM and for replay."""
import torch

from sa.io import resolve_device, save_torch
from sa.models import load_model
from sa.runtime import config_hash, start_job
from sa.sampling import generate
from sa.training import Checkpoint

p = snakemake.params
log = start_job(snakemake.log[0], seed=p.replay["seed"], threads=snakemake.threads)
device = resolve_device(p.device)
model, _ = load_model(snakemake.input[0])
model.to(device)
if "guidance_scale" in p.replay:
    model.guidance_scale = p.replay["guidance_scale"]

labels = torch.arange(model.num_classes).repeat_interleave(p.replay["samples_per_class"])
generator = torch.Generator(device=device).manual_seed(p.replay["seed"])
checkpoint = Checkpoint(snakemake.output[0] + ".ckpt", 1, config_hash(p.replay))  # one batch lost at most
images = generate(model, labels, p.replay["batch_size"], generator, device, "replay set", checkpoint)
log.info("%d replay samples, %d per class, guidance %g", len(labels), p.replay["samples_per_class"],
         model.guidance_scale)
save_torch({"images": images, "labels": labels}, snakemake.output[0])
checkpoint.clear()
