"""Sample grid of one evaluation: one row per model, the first image of each of the first prompts."""
from PIL import Image

from sa.figures import prompt_grid
from sa.runtime import start_job
from sa.sd.generate import read_image_set

log = start_job(snakemake.log[0])
p = snakemake.params
sets = [read_image_set(folder) for folder in snakemake.input.images]
prompts = list(dict.fromkeys(entry["prompt"] for entry in sets[0]))[:p.prompts]
rows = {label: [Image.open(next(e["path"] for e in entries if e["prompt"] == prompt)).convert("RGB")
                for prompt in prompts]
        for label, entries in zip(p.labels, sets)}
prompt_grid(rows, prompts, snakemake.output[0], title=p.title, blur=p.blur)
log.info("wrote %s", snakemake.output[0])
