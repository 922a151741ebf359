"""The latents of SD images of a prompt list: the replay set (FIM and replay) or a surrogate set q(x|c_f)."""
from pathlib import Path

from sa.io import resolve_device
from sa.runtime import start_job
from sa.sd.generate import write_latent_set
from sa.sd.pipeline import load_pipeline
from sa.sd.prompts import read_prompt_file, replay_jobs

p = snakemake.params
spec = p.replay if snakemake.rule == "generate_sd_replay" else p.surrogate
log = start_job(snakemake.log[0], seed=spec["seed"], threads=snakemake.threads)
prompts = read_prompt_file(snakemake.input.prompts) if "prompts" in spec else [spec["prompt"]]
jobs = replay_jobs(prompts, spec["samples"], spec["seed"])
log.info("%s: %d images of %d prompt(s), e.g. %r", snakemake.rule, len(jobs), len(prompts), prompts[0])

pipe = load_pipeline(Path(snakemake.input.model).parent, resolve_device(p.device))
write_latent_set(pipe, jobs, snakemake.output[0], p.sampling["steps"], p.sampling["guidance_scale"], p.resolution,
                 p.sampling["batch_size"], desc=snakemake.rule, source=snakemake.input.model)
log.info("wrote %s", snakemake.output[0])
