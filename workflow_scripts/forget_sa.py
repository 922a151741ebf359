"""Selective Amnesia: train the original model to forget its c_f classes (Eq. 4)."""
import copy

import torch

from sa.forget import eq4_lambda, replay_from_model, replay_from_set, selective_amnesia, uniform_surrogate
from sa.io import load_torch, resolve_device, save_json
from sa.models import load_model, save_model
from sa.runtime import config_hash, start_job
from sa.sampling import to_float
from sa.training import Checkpoint

p = snakemake.params
settings = p.forget
log = start_job(snakemake.log[0], seed=settings["seed"], threads=snakemake.threads)
device = resolve_device(p.device)
model, blob = load_model(snakemake.input.model)
model.to(device)
fisher = load_torch(snakemake.input.fisher)
kind = blob["build_args"]["kind"]

forget_classes = p.forget_classes
remember_classes = [c for c in range(model.num_classes) if c not in forget_classes]
surrogate = uniform_surrogate(model.image_shape, forget_classes, device)
replay = None
if settings["replay"] and kind == "vae":
    replay = replay_from_model(copy.deepcopy(model).eval().requires_grad_(False), remember_classes, device)
elif settings["replay"]:
    stored = load_torch(snakemake.input.replay)
    remembered = torch.isin(stored["labels"], torch.tensor(remember_classes))
    replay = replay_from_set(to_float(stored["images"][remembered]), stored["labels"][remembered], device)
lam = eq4_lambda(settings["lambda"], elbo_summed_over_batch=kind == "vae", batch_size=settings["batch_size"])
log.info("forgetting classes %s (remembering %s): %s; λ=%g in the convention of the paper's tables is λ=%g in Eq. 4", forget_classes,
         remember_classes, settings, settings["lambda"], lam)

checkpoint = Checkpoint(snakemake.output.model + ".ckpt", p.checkpoint_every, config_hash([settings, forget_classes]))
history = selective_amnesia(model, fisher, surrogate, replay, lam, settings["steps"], settings["lr"],
                            settings["batch_size"], checkpoint, ema_decay=settings.get("ema_decay"))

save_model(model.cpu(), blob["build_args"], snakemake.output.model, forget=settings)
save_json({"settings": settings, "history": history}, snakemake.output.history)
checkpoint.clear()
