# Config validation, experiment expansion and input functions shared by every rule.

import hashlib
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from sa.config_check import config_problems

validate(config, Path(workflow.basedir) / "config" / "config.schema.yaml", set_default=True)
_problems = config_problems(config)
if _problems:
    raise WorkflowError("invalid configuration:\n  " + "\n  ".join(_problems))

EXPERIMENTS = config["experiments"]
RESULTS = "results"


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
    merged.update({k: v for k, v in EXPERIMENTS[exp]["variants"][variant].items() if k != "label"})
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


# Every row of Table 1, in order: experiment, run, table section, the paper's section, row label.
TABLE1_ROWS = [{"exp": exp, "run": run, "table": e["table"], "reference": e.get("paper_reference", e["table"]),
                "label": run_label(exp, run)}
               for exp, e in EXPERIMENTS.items() for run in runs_of(exp)]


wildcard_constraints:
    exp="|".join(EXPERIMENTS),
    dataset="[a-z0-9]+",
