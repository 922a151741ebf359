"""Selective Amnesia: train the original model to forget its c_f classes (Eq. 4)."""
import copy

from sa.forget import replay_from_model, selective_amnesia, uniform_surrogate
from sa.io import load_torch, resolve_device, save_json
from sa.models import load_model, save_model
from sa.runtime import start_job
from sa.training import clear_checkpoint

p = snakemake.params
settings = p.forget
log = start_job(snakemake.log[0], seed=settings["seed"], threads=snakemake.threads)
device = resolve_device(p.device)
model, blob = load_model(snakemake.input.model)
model.to(device)
fisher = load_torch(snakemake.input.fisher)

forget_classes = p.forget_classes
remember_classes = [c for c in range(model.num_classes) if c not in forget_classes]
surrogate = uniform_surrogate(model.image_shape, forget_classes, device)
replay = None
if settings["replay"]:
    frozen = copy.deepcopy(model).eval().requires_grad_(False)
    replay = replay_from_model(frozen, remember_classes, device)
log.info("forgetting classes %s (remembering %s): %s", forget_classes, remember_classes, settings)

checkpoint = snakemake.output.model + ".ckpt"
history = selective_amnesia(model, fisher, surrogate, replay, settings["lambda"], settings["steps"],
                            settings["lr"], settings["batch_size"], checkpoint, p.checkpoint_every)

save_model(model.cpu(), blob["build_args"], snakemake.output.model, forget=settings)
save_json({"settings": settings, "history": history}, snakemake.output.history)
clear_checkpoint(checkpoint)
