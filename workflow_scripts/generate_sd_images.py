"""The evaluation images of one row (a model, SLD, ESD or SA) for one evaluation prompt set."""
import os
from pathlib import Path

from sa.io import resolve_device
from sa.runtime import start_job
from sa.sd.generate import write_image_set
from sa.sd.pipeline import load_pipeline, load_unet_weights
from sa.sd.prompts import evaluation_jobs

p = snakemake.params
log = start_job(snakemake.log[0], seed=p.evaluation["seed"], threads=snakemake.threads)
jobs = evaluation_jobs(p.evaluation, snakemake.input.get("i2p"))
run = p.run
pipe = load_pipeline(Path(snakemake.input.model).parent, resolve_device(p.device), safe=run["sld_concept"] is not None)
if run["weights"]:
    load_unet_weights(pipe, snakemake.input.weights)
log.info("%d images of %s (%s)", len(jobs), snakemake.wildcards.evaluation,
         f"SLD Medium, safety concept {run['sld_concept']!r}" if run["sld_concept"] else run["weights"] or run["model"])
weights = snakemake.input.get("weights")
source = f"{snakemake.input.model}; {weights} modified {os.stat(weights).st_mtime_ns}" if weights else snakemake.input.model
write_image_set(pipe, jobs, snakemake.output[0], p.sampling["steps"], p.sampling["guidance_scale"], p.resolution,
                p.sampling["batch_size"], sld_concept=run["sld_concept"], desc=snakemake.wildcards.run, source=source)
