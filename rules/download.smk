# The download stage: the external artifacts that the configured tier reads (torchvision datasets
# into datasets.root, network weights into torch's cache under resources/torch). Run it first, where
# there is internet (a cluster's login node; these are local rules):
#   snakemake download_all --cores 1 --configfile config/paper.yaml
# Compute jobs then read only local files. Stable Diffusion and its evaluation models are not
# fetched here yet.

import re

from sa.resources_paths import DATASETS, WEIGHTS, artifacts_needed, dataset_folder, weights_dir, weights_path

DATASETS_ROOT = config["datasets"]["root"]
NEEDED_DATASETS, NEEDED_WEIGHTS = artifacts_needed(config)
DATASET_OF_FOLDER = {spec.folder: name for name, spec in DATASETS.items()}
WEIGHTS_OF_FILE = {spec.file: name for name, spec in WEIGHTS.items()}


rule download_all:
    input:
        [dataset_folder(name, DATASETS_ROOT) for name in NEEDED_DATASETS],
        [weights_path(name) for name in NEEDED_WEIGHTS],


rule download_dataset:
    output:
        directory(f"{DATASETS_ROOT}/{{folder}}"),
    wildcard_constraints:
        folder="|".join(re.escape(folder) for folder in DATASET_OF_FOLDER),
    params:
        python=PYTHON,
        dataset=lambda w: DATASET_OF_FOLDER[w.folder],
        root=DATASETS_ROOT,
    resources:
        **rule_resources("download_dataset"),
    log:
        "logs/download/{folder}.log",
    shell:
        "{params.python:q} -m sa.resources_paths dataset {params.dataset} {params.root:q} 2>&1 | tee {log:q}"


rule download_weights:
    output:
        f"{weights_dir()}/{{file}}",
    wildcard_constraints:
        file="|".join(re.escape(file) for file in WEIGHTS_OF_FILE),
    params:
        python=PYTHON,
        weights=lambda w: WEIGHTS_OF_FILE[w.file],
        torch_home=TORCH_HOME,
    resources:
        **rule_resources("download_weights"),
    log:
        "logs/download/{file}.log",
    shell:
        "{params.python:q} -m sa.resources_paths weights {params.weights} {params.torch_home:q} 2>&1 | tee {log:q}"
