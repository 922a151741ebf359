"""Sample grid of the original model beside the SA model, one row per class (the paper's Fig. 2)."""
import torch

from sa.figures import class_grid, save_comparison
from sa.io import load_torch
from sa.runtime import start_job

log = start_job(snakemake.log[0])
p = snakemake.params


def grid(path):
    s = load_torch(path)
    images = torch.cat([s["forget_images"], s["remember_images"]])
    labels = torch.cat([s["forget_labels"], s["remember_labels"]])
    classes = sorted(labels.unique().tolist())
    return class_grid(images, labels, classes, p.per_class), classes, s["forget_classes"]


original, classes, forget_classes = grid(snakemake.input.original)
forgotten, _, _ = grid(snakemake.input.forgotten)
save_comparison({"Original": original, f"SA ({p.label})": forgotten}, [str(c) for c in classes],
                snakemake.output[0], title=f"{p.table}: forgetting class(es) {forget_classes}")
log.info("wrote %s", snakemake.output[0])
