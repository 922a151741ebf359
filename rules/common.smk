# Config validation, experiment expansion, job resources and input functions shared by every rule.

import hashlib
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from sa.config_check import config_problems
from sa.resources_paths import TORCH_HOME

validate(config, Path(workflow.basedir) / "config" / "config.schema.yaml", set_default=True)
_problems = config_problems(config)
if _problems:
    raise WorkflowError("invalid configuration:\n  " + "\n  ".join(_problems))

EXPERIMENTS = config["experiments"]
RESULTS = "results"
PYTHON = sys.executable

# Jobs read network weights (ResNet34, Inception) from torch's cache in resources/torch, which the
# download stage fills; every job inherits this (locally, and through sbatch --export=ALL).
os.environ["TORCH_HOME"] = str(Path(TORCH_HOME).resolve())

# Cheap jobs that read many files run where Snakemake runs, never through the cluster; the
# downloads need the internet, which a cluster's login node has and its compute nodes may not.
localrules:
    make_table1,
    plot_samples,
    make_sd_tables,
    plot_sd_samples,
    download_dataset,
    download_weights,
    download_sd_model,
    download_i2p,
    download_gcd,


def rule_resources(rule):
    """The resources of a rule's jobs: config `resources.default` overridden by `resources.rules[rule]`,
    under the names the Slurm executor reads. A CPU config requests no GPU; a job gets at least
    `threads` CPUs."""
    spec = {**config["resources"]["default"], **config["resources"]["rules"].get(rule, {})}
    gpus = spec["gpus"] if config["device"] != "cpu" else 0
    resources = {"cpus_per_task": max(spec["cpus"], config["threads"]), "mem_mb": spec["mem_mb"],
                 "runtime": spec["runtime"], "gpu": gpus}
    if gpus and "gpu_model" in spec:
        resources["gpu_model"] = spec["gpu_model"]
    for key in ("slurm_partition", "slurm_account"):
        if key in spec:
            resources[key] = spec[key]
    return resources


def code_version(*paths):
    """A param that changes when the code a rule runs changes (Snakemake only tracks the script)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update((Path(workflow.basedir) / path).read_bytes())
    return digest.hexdigest()[:12]


def experiment(wildcards):
    return EXPERIMENTS[wildcards.exp]


def forget_settings(exp, variant):
    """The forget defaults of an experiment overridden by one variant's keys."""
    merged = dict(EXPERIMENTS[exp]["forget"])
    merged.update({k: v for k, v in EXPERIMENTS[exp]["variants"][variant].items() if k not in ("label", "paper_row")})
    return merged


def runs_of(exp):
    """Every model evaluated for an experiment: the original, the baselines and each SA variant."""
    baselines = ["nine_classes"] if EXPERIMENTS[exp]["baselines"]["nine_classes"] else []
    return ["original", *baselines, *EXPERIMENTS[exp]["variants"]]


def used_datasets():
    return sorted({e["dataset"] for e in EXPERIMENTS.values()})


BASELINE_LABELS = {"original": "Original", "nine_classes": "9 Classes"}


def run_label(exp, run):
    return BASELINE_LABELS.get(run) or EXPERIMENTS[exp]["variants"][run]["label"]


def paper_row(exp, run):
    return EXPERIMENTS[exp]["variants"].get(run, {}).get("paper_row") or run_label(exp, run)


# Every row of Table 1, in order: experiment, run, table section, row label, and the paper's row beside it.
TABLE1_ROWS = [{"exp": exp, "run": run, "table": e["table"], "label": run_label(exp, run),
                "reference": e.get("paper_reference", e["table"]), "paper_row": paper_row(exp, run)}
               for exp, e in EXPERIMENTS.items() for run in runs_of(exp)]


wildcard_constraints:
    exp="|".join(EXPERIMENTS) or "(?!)",
    dataset="[a-z0-9]+",
