"""Samples of one model for evaluation: c_f samples, and samples of each remembered class."""
import torch

from sa.io import resolve_device, save_torch
from sa.models import load_model
from sa.runtime import config_hash, start_job
from sa.sampling import evaluation_labels, generate
from sa.training import Checkpoint

p = snakemake.params
settings = p.evaluate
log = start_job(snakemake.log[0], seed=settings["seed"], threads=snakemake.threads)
device = resolve_device(p.device)
model, _ = load_model(snakemake.input[0])
model.to(device)

forget_labels, remember_labels = evaluation_labels(model.num_classes, p.forget_classes,
                                                   settings["forget_samples"], settings["samples_per_class"])
generator = torch.Generator(device=device).manual_seed(settings["seed"])
# Every batch is a full sampling run: checkpoint after each, so a killed job loses one batch at most.
checkpoints = [Checkpoint(f"{snakemake.output[0]}.{part}.ckpt", 1, config_hash([settings, p.forget_classes]))
               for part in ("forget", "remember")]
blob = {
    "forget_images": generate(model, forget_labels, settings["batch_size"], generator, device, "sample c_f",
                              checkpoints[0]),
    "forget_labels": forget_labels,
    "remember_images": generate(model, remember_labels, settings["batch_size"], generator, device, "sample c_r",
                                checkpoints[1]),
    "remember_labels": remember_labels,
    "forget_classes": list(p.forget_classes),
}
log.info("%d samples of c_f and %d of the remembered classes", len(forget_labels), len(remember_labels))
save_torch(blob, snakemake.output[0])
for checkpoint in checkpoints:
    checkpoint.clear()
