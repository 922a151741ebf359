"""Selective Amnesia in Stable Diffusion (Eq. 4): surrogate images under the prompt(s) to forget,
replay of the stored everyday images under their prompts, EWC on the trained UNet layers."""
import math
from pathlib import Path

from sa.forget import eq4_lambda, selective_amnesia
from sa.io import load_torch, resolve_device, save_json, save_torch
from sa.runtime import config_hash, start_job
from sa.sd.pipeline import LatentDiffusion, load_pipeline, select_trainable, trainable_state
from sa.sd.sets import prompt_set_sampler
from sa.training import Checkpoint

p = snakemake.params
settings = p.sa
log = start_job(snakemake.log[0], seed=settings["seed"], threads=snakemake.threads)
pipe = load_pipeline(Path(snakemake.input.model).parent, resolve_device(p.device))
trained = select_trainable(pipe.unet, settings["train_method"])
model = LatentDiffusion.from_pipeline(pipe, p.resolution)
fisher = {name: f for name, f in load_torch(snakemake.input.fisher).items()
          if dict(model.named_parameters())[name].requires_grad}

surrogate_set, replay_set = load_torch(snakemake.input.surrogate), load_torch(snakemake.input.replay)
surrogate = prompt_set_sampler(pipe, surrogate_set["latents"], p.forget_prompts)
replay = prompt_set_sampler(pipe, replay_set["latents"], replay_set["prompts"], paired=True)
steps = math.ceil(settings["epochs"] * len(surrogate_set["latents"]) / settings["batch_size"])
lr = settings["lr"] * max(1, p.gpus)  # the paper scales the base rate by the number of GPUs
lam = eq4_lambda(settings["lambda"], elbo_summed_over_batch=False, batch_size=settings["batch_size"])
log.info("forgetting %s (%s layers, %d parameters): %d steps of %d surrogate + %d replay images, lr %g, "
         "λ=%g (paper convention) = %g in Eq. 4", p.forget_prompts, settings["train_method"], trained, steps,
         settings["batch_size"], settings["batch_size"], lr, settings["lambda"], lam)

checkpoint = Checkpoint(snakemake.output.unet + ".ckpt", p.checkpoint_every, config_hash([settings, p.forget_prompts]))
history = selective_amnesia(model, fisher, surrogate, replay, lam, steps, lr, settings["batch_size"], checkpoint)
save_torch({"unet": trainable_state(pipe.unet), "train_method": settings["train_method"], "settings": settings},
           snakemake.output.unet)
save_json({"settings": settings, "steps": steps, "lr": lr, "history": history}, snakemake.output.history)
checkpoint.clear()
