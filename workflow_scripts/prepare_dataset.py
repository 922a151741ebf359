"""Materialise one dataset into results/data/<name>.npz."""
import sys

from sa.data import DatasetUnavailable, build_dataset, save_dataset
from sa.runtime import start_job

log = start_job(snakemake.log[0])
settings = snakemake.params.settings
name = snakemake.wildcards.dataset
try:
    arrays = build_dataset(name, settings["root"], settings["test_fraction"], settings["seed"], settings["download"])
except DatasetUnavailable as err:
    log.error("%s", err)
    sys.exit(1)
log.info("%s: %d train and %d test images of shape %s", name, len(arrays["x_train"]), len(arrays["x_test"]),
         tuple(arrays["x_train"].shape[1:]))
save_dataset(arrays, snakemake.output[0])
