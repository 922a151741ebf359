"""The pipeline on a Slurm cluster: resources from the config, the profile, and a whole run through
snakemake-executor-plugin-slurm against stand-ins for Slurm's commands (tests/fake_slurm), whose
sbatch runs each job at once on this machine and records what it was asked for."""
import copy
import json
import os
import re
import sys

import pandas as pd
import pytest
import yaml

from tests.workflow import REPO, copy_workflow, snakemake, write_config

TINY = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
PAPER = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
GPU_RULES = {"train_classifier", "train_generator", "compute_fim", "forget_sa", "sample_model", "evaluate_model"}
SD_GPU_RULES = {"generate_sd_replay", "generate_sd_surrogate", "compute_sd_fim", "forget_sd", "erase_sd",
                "generate_sd_images", "evaluate_sd_images"}
# What a user writes on the profile's EDIT lines, in order.
EDITS = [("slurm_account", "testacct"), ("slurm_partition", "cpu"), ("slurm_partition", "gpu")]


def vae_config(device="auto"):
    """The tiny config's VAE experiment alone, GPUs on the rules that can use them, one GPU model."""
    config = copy.deepcopy(TINY)
    del config["experiments"]["digits_ddpm"]
    config["device"] = device
    config["resources"] = {
        "default": {"cpus": 1, "mem_mb": 1000, "runtime": 10, "gpus": 0},
        "rules": {rule: {"gpus": 1} for rule in GPU_RULES}}
    config["resources"]["rules"]["train_generator"].update(gpu_model="a100", mem_mb=2000, runtime=30)
    return config


def planned_resources(workdir, configfile, *args):
    """Rule -> the resources of its jobs, read from a dry run that plans every job."""
    out = snakemake(workdir, configfile, "--dry-run", "--forceall", *args)
    planned, rule = {}, None
    for line in (out.stdout + out.stderr).splitlines():
        if match := re.match(r"(?:local)?rule (\w+):", line):
            rule = match.group(1)
        elif (match := re.match(r"\s+resources: (.*)", line)) and rule:
            planned[rule] = dict(item.split("=", 1) for item in match.group(1).split(", "))
    return planned


def test_resources_come_from_the_config(tmp_path):
    workdir = copy_workflow(tmp_path)
    on_gpu = planned_resources(workdir, write_config(tmp_path / "gpu.yaml", vae_config("auto")))
    assert {rule for rule, res in on_gpu.items() if res.get("gpu") == "1"} == GPU_RULES
    assert on_gpu["prepare_dataset"]["gpu"] == "0" and "gpu" not in on_gpu["all"]
    assert on_gpu["train_generator"]["gpu_model"] == "a100", "the override of a rule"
    assert (on_gpu["train_generator"]["mem_mb"], on_gpu["train_generator"]["runtime"]) == ("2000", "30")
    assert (on_gpu["compute_fim"]["mem_mb"], on_gpu["compute_fim"]["runtime"]) == ("1000", "10"), "the default"
    assert "gpu_model" not in on_gpu["compute_fim"]

    config = vae_config("cpu")
    config["threads"] = 2
    on_cpu = planned_resources(workdir, write_config(tmp_path / "cpu.yaml", config))
    assert all(res["gpu"] == "0" and "gpu_model" not in res for rule, res in on_cpu.items() if rule != "all"), \
        "a CPU config asks for no GPU"
    assert {res["cpus_per_task"] for rule, res in on_cpu.items() if rule != "all"} == {"2"}, "at least `threads` CPUs"


def test_a_misspelled_rule_in_resources_is_an_error(tmp_path):
    workdir = copy_workflow(tmp_path)
    config = vae_config()
    config["resources"]["rules"]["compute_fimm"] = {"gpus": 1}
    result = snakemake(workdir, write_config(tmp_path / "bad.yaml", config), "--dry-run", check=False)
    assert result.returncode != 0 and "compute_fimm" in result.stdout + result.stderr


def test_the_paper_tier_asks_for_gpus_where_the_profile_sends_jobs_to_the_gpu_partition(tmp_path):
    workdir = copy_workflow(tmp_path)
    paper = planned_resources(workdir, workdir / "config" / "paper.yaml")
    assert {rule for rule, res in paper.items() if int(res.get("gpu", 0)) >= 1} == GPU_RULES | SD_GPU_RULES | {"generate_replay"}
    assert paper["forget_sd"]["gpu"] == "4", "the paper forgets on 4 GPUs"
    profile = yaml.safe_load(PROFILE.read_text())
    assert profile["executor"] == "slurm" and profile["rerun-incomplete"] and profile["retries"] > 0
    assert set(profile["set-resources"]) == GPU_RULES | SD_GPU_RULES | {"generate_replay"}


def test_the_profile_marks_the_only_lines_to_edit():
    edit_lines = [line for line in PROFILE.read_text().splitlines() if "CHANGE_ME" in line]
    assert len(edit_lines) == len(EDITS)
    for line, (key, _) in zip(edit_lines, EDITS):
        assert line.strip().startswith(f'{key}: "CHANGE_ME"') and "# EDIT" in line, line


def test_the_local_profile_parses(tmp_path):
    workdir = copy_workflow(tmp_path)
    configfile = write_config(tmp_path / "gpu.yaml", vae_config("auto"))
    assert planned_resources(workdir, configfile, "--profile", str(workdir / "profiles" / "local"))


def edited_profile(dest):
    """The Slurm profile with its EDIT lines filled in as a user would."""
    text = PROFILE.read_text()
    for key, value in EDITS:
        text = text.replace(f'{key}: "CHANGE_ME"', f'{key}: "{value}"', 1)
    assert "CHANGE_ME" not in text
    dest.mkdir()
    (dest / "config.yaml").write_text(text)
    return dest


@pytest.mark.slow
def test_the_pipeline_runs_through_slurm(tmp_path):
    workdir = tmp_path / "workflow"
    workdir.mkdir()
    copy_workflow(workdir)
    configfile = write_config(tmp_path / "slurm.yaml", vae_config("auto"))
    profile = edited_profile(tmp_path / "profile")
    state = tmp_path / "slurm_state"
    state.mkdir()
    env = {**os.environ, "PATH": f"{REPO / 'tests' / 'fake_slurm'}{os.pathsep}{os.environ['PATH']}",
           "FAKE_SLURM_DIR": str(state), "FAKE_SLURM_PYTHON": sys.executable}
    env.pop("SLURM_JOB_ID", None)

    snakemake(workdir, configfile, "--profile", str(profile), "--slurm-init-seconds-before-status-checks", "1",
              env=env)

    table = pd.read_csv(workdir / "results/tables/table1.csv")
    assert table["Model"].tolist() == ["Original", "λ = 100"]
    assert (workdir / "results/figures/digits_vae/lambda100.png").exists()

    submitted = {}
    for line in (state / "sbatch.jsonl").read_text().splitlines():
        record = json.loads(line)
        args = " ".join(arg for arg in record["args"] if not arg.startswith("--wrap"))
        rule = re.search(r"--comment rule_([a-z0-9_]+?)(?:_wildcards_\S+)? ", args).group(1)
        submitted.setdefault(rule, []).append((args, record))
    assert set(submitted) == {"prepare_dataset", *GPU_RULES}, "tables and figures are local rules"
    assert [len(submitted[rule]) for rule in ["sample_model", "evaluate_model"]] == [2, 2]

    for rule, jobs in submitted.items():
        for args, record in jobs:
            assert " -A testacct " in args and " --cpus-per-task=1 " in args, args
            assert " -D " + str(workdir) in args
            assert record["torch_home"] == str(workdir / "resources" / "torch"), "weights come from resources/"
            if rule == "train_generator":
                assert "--gpus=a100:1" in args and " -p gpu " in args and " --mem 2000 " in args and " -t 30 " in args
            elif rule in GPU_RULES:
                assert "--gpus=1" in args and " -p gpu " in args and " --mem 1000 " in args and " -t 10 " in args
            else:
                assert "--gpus" not in args and " -p cpu " in args and " --mem 1000 " in args, args

    steps = [json.loads(line) for line in (state / "srun.jsonl").read_text().splitlines()]
    assert len(steps) == sum(len(jobs) for jobs in submitted.values()), "each job runs its rule as one job step"
    gpu_steps = [step for step in steps if "--gpus=1" in step["args"]]
    assert len(gpu_steps) == sum(len(submitted[rule]) for rule in GPU_RULES), "the step gets the job's GPU"
