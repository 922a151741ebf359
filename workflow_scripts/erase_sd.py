"""The ESD baseline: erase the prompt(s) to forget from the base UNet by negative guidance."""
from pathlib import Path

from sa.io import resolve_device, save_json
from sa.runtime import config_hash, start_job
from sa.sd.esd import erase_concept
from sa.sd.pipeline import load_pipeline, save_unet_weights, select_trainable
from sa.training import Checkpoint

p = snakemake.params
settings = p.esd
log = start_job(snakemake.log[0], seed=settings["seed"], threads=snakemake.threads)
pipe = load_pipeline(Path(snakemake.input.model).parent, resolve_device(p.device))
trained = select_trainable(pipe.unet, settings["train_method"])
log.info("ESD (%s, %d parameters) erasing %s: %s", settings["train_method"], trained, p.forget_prompts, settings)

checkpoint = Checkpoint(snakemake.output.unet + ".ckpt", p.checkpoint_every, config_hash([settings, p.forget_prompts]))
history = erase_concept(pipe, p.forget_prompts, settings["iterations"], settings["lr"], p.resolution,
                        settings["negative_guidance"], settings["start_guidance"], p.sampling["steps"], checkpoint)
save_unet_weights(pipe.unet, snakemake.output.unet, settings)
save_json({"settings": settings, "history": history}, snakemake.output.history)
checkpoint.clear()
