# The download stage: the external artifacts that the configured tier reads (torchvision datasets
# into datasets.root, network weights into torch's cache under resources/torch). Run it first, where
# there is internet (a cluster's login node; these are local rules):
#   snakemake download_all --cores 1 --configfile config/paper.yaml
# Compute jobs then read only local files. With a `stable_diffusion` section it also fetches the
# Stable Diffusion models given as hub ids (into models_dir/<name>/), the I2P benchmark (for an
# evaluation with `prompts: i2p`) and the GIPHY Celebrity Detector (for a table2 evaluation).

import re

from sa.resources_paths import DATASETS, WEIGHTS, artifacts_needed, dataset_folder, weights_dir, weights_path
from sa.sd.resources import MODEL_INDEX, gcd_marker, sd_artifacts_needed, sd_locations

DATASETS_ROOT = config["datasets"]["root"]
NEEDED_DATASETS, NEEDED_WEIGHTS = artifacts_needed(config)
DATASET_OF_FOLDER = {spec.folder: name for name, spec in DATASETS.items()}
WEIGHTS_OF_FILE = {spec.file: name for name, spec in WEIGHTS.items()}

# Stable Diffusion (config.get: a config without the section downloads none of it).
SD_NEEDED = sd_artifacts_needed(config)
SD_PLACES = sd_locations(config)
SD_MODELS_DIR = SD_PLACES["models_dir"]


rule download_all:
    input:
        [dataset_folder(name, DATASETS_ROOT) for name in NEEDED_DATASETS],
        [weights_path(name) for name in NEEDED_WEIGHTS],
        [f"{SD_MODELS_DIR}/{name}/{MODEL_INDEX}" for name in SD_NEEDED["models"]],
        [SD_PLACES["i2p_csv"]] if SD_NEEDED["i2p"] else [],
        [gcd_marker(SD_PLACES["gcd_dir"])] if SD_NEEDED["gcd"] else [],


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


# A diffusers folder; model_index.json arrives last, so it marks a complete download.
rule download_sd_model:
    output:
        f"{SD_MODELS_DIR}/{{sd_model}}/{MODEL_INDEX}",
    wildcard_constraints:
        sd_model="|".join(re.escape(name) for name in SD_NEEDED["models"]) or "(?!)",
    params:
        python=PYTHON,
        source=lambda w: SD_NEEDED["models"][w.sd_model],
        dest=lambda w: f"{SD_MODELS_DIR}/{w.sd_model}",
    resources:
        **rule_resources("download_sd_model"),
    log:
        "logs/download/sd_model_{sd_model}.log",
    shell:
        "{params.python:q} -m sa.sd.resources model {wildcards.sd_model} {params.source:q} {params.dest:q} "
        "2>&1 | tee {log:q}"


rule download_i2p:
    output:
        SD_PLACES["i2p_csv"],
    params:
        python=PYTHON,
    resources:
        **rule_resources("download_i2p"),
    log:
        "logs/download/i2p.log",
    shell:
        "{params.python:q} -m sa.sd.resources i2p {output:q} 2>&1 | tee {log:q}"


rule download_gcd:
    output:
        gcd_marker(SD_PLACES["gcd_dir"]),
    params:
        python=PYTHON,
        gcd_dir=SD_PLACES["gcd_dir"],
    resources:
        **rule_resources("download_gcd"),
    log:
        "logs/download/gcd.log",
    shell:
        "{params.python:q} -m sa.sd.resources gcd {params.gcd_dir:q} 2>&1 | tee {log:q}"
