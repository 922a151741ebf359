"""Samples of one model for evaluation: c_f samples, and samples of each remembered class."""
import torch

from sa.io import resolve_device, save_torch
from sa.models import load_model
from sa.runtime import start_job
from sa.sampling import evaluation_labels, generate

p = snakemake.params
log = start_job(snakemake.log[0], seed=p.evaluate["seed"], threads=snakemake.threads)
device = resolve_device(p.device)
model, _ = load_model(snakemake.input[0])
model.to(device)

forget_labels, remember_labels = evaluation_labels(model.num_classes, p.forget_classes,
                                                   p.evaluate["forget_samples"], p.evaluate["samples_per_class"])
generator = torch.Generator(device=device).manual_seed(p.evaluate["seed"])
blob = {
    "forget_images": generate(model, forget_labels, p.evaluate["batch_size"], generator, device, desc="sample c_f"),
    "forget_labels": forget_labels,
    "remember_images": generate(model, remember_labels, p.evaluate["batch_size"], generator, device, desc="sample c_r"),
    "remember_labels": remember_labels,
    "forget_classes": list(p.forget_classes),
}
log.info("%d samples of c_f and %d of the remembered classes", len(forget_labels), len(remember_labels))
save_torch(blob, snakemake.output[0])
