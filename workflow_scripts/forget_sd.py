"""Selective Amnesia in Stable Diffusion (Eq. 4): surrogate images under the prompt(s) to forget,
replay of the stored everyday images under their prompts, EWC on the trained UNet layers.
With more than one GPU the script runs itself once per GPU through `accelerate launch`."""
import math
import subprocess
import sys
from pathlib import Path

from sa.distributed import is_launched, join_processes, launch_command
from sa.forget import eq4_lambda, selective_amnesia
from sa.io import load_torch, resolve_device, save_json
from sa.runtime import config_hash, start_job
from sa.sd.pipeline import LatentDiffusion, load_pipeline, save_unet_weights, select_trainable
from sa.sd.sets import prompt_set_sampler
from sa.training import Checkpoint

p = snakemake.params
if p.gpus > 1 and not is_launched():
    sys.exit(subprocess.call(launch_command(__file__, p.gpus)))

settings = p.sa
processes = join_processes(resolve_device(p.device))
rank = processes.rank
log = start_job(snakemake.log[0] + (f".rank{rank}" if rank else ""), seed=settings["seed"] + rank,
                threads=snakemake.threads)
pipe = load_pipeline(Path(snakemake.input.model).parent, processes.device)
trained = select_trainable(pipe.unet, settings["train_method"])
model = LatentDiffusion.from_pipeline(pipe, p.resolution)
fisher = load_torch(snakemake.input.fisher)  # selective_amnesia keeps the entries of the trained layers

surrogate_set, replay_set = load_torch(snakemake.input.surrogate), load_torch(snakemake.input.replay)
surrogate = prompt_set_sampler(pipe, surrogate_set["latents"], p.forget_prompts)
replay = prompt_set_sampler(pipe, replay_set["latents"], replay_set["prompts"], paired=True)
# Each step sees batch_size surrogate images per process; the paper scales the base rate by the GPUs.
steps = math.ceil(settings["epochs"] * len(surrogate_set["latents"]) / (settings["batch_size"] * processes.world_size))
lr = settings["lr"] * processes.world_size
lam = eq4_lambda(settings["lambda"], elbo_summed_over_batch=False, batch_size=settings["batch_size"])
log.info("forgetting %s (%s layers, %d parameters) on %d process(es): %d steps of %d surrogate + %d replay images "
         "each, lr %g, λ=%g (paper convention) = %g in Eq. 4", p.forget_prompts, settings["train_method"], trained,
         processes.world_size, steps, settings["batch_size"], settings["batch_size"], lr, settings["lambda"], lam)

checkpoint = Checkpoint(snakemake.output.unet + f".ckpt{f'.rank{rank}' if processes.world_size > 1 else ''}",
                        p.checkpoint_every, config_hash([settings, p.forget_prompts, processes.world_size]))
history = selective_amnesia(model, fisher, surrogate, replay, lam, steps, lr, settings["batch_size"], checkpoint,
                            average_gradients=processes.average_gradients)
if processes.is_main:
    save_unet_weights(pipe.unet, snakemake.output.unet, settings)
    save_json({"settings": settings, "steps": steps, "lr": lr, "processes": processes.world_size, "history": history},
              snakemake.output.history)
checkpoint.clear()
