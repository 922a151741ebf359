"""The Snakemake workflow end to end on a tiny config, and its incremental behaviour."""
import json
import math
import re

import pandas as pd
import pytest
import torch
import yaml

from tests.workflow import REPO, copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow
TINY = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """The tiny DAG run to completion once, shared by the tests of this module (each restores what it edits)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    configfile = write_config(workdir / "tiny.yaml", TINY)
    snakemake(workdir, configfile)
    return workdir, configfile


def test_tables_have_finite_numbers_in_range(finished_run):
    workdir, _ = finished_run
    table = pd.read_csv(workdir / "results/tables/table1.csv")
    assert list(zip(table["Dataset"], table["Model"])) == [
        ("MNIST", "Original"), ("MNIST", "λ = 100"), ("digits (DDPM)", "Original"), ("digits (DDPM)", "9 Classes"),
        ("digits (DDPM)", "λ = 10"), ("digits (DDPM)", "No GR (λ = 10)")]
    for column in ["H(P(y|x_f)) (ours)", "P(y=c_f|x_f) (ours)", "Acc. remembered (ours)"]:
        assert table[column].map(math.isfinite).all(), column
    assert table["H(P(y|x_f)) (ours)"].between(0, math.log(10)).all()
    assert table["P(y=c_f|x_f) (ours)"].between(0, 1).all()
    assert table["Acc. remembered (ours)"].between(0, 1).all()
    assert table["P(y=c_f|x_f) (paper)"].tolist()[:2] == [0.967, 0.058]

    ddpm = table[table["Dataset"] == "digits (DDPM)"]
    fid, precision, recall = (f"{name} [classifier features] (ours)" for name in ["FID", "Precision", "Recall"])
    assert ddpm[fid].map(math.isfinite).all() and (ddpm[fid] >= 0).all()
    assert ddpm[precision].between(0, 1).all() and ddpm[recall].between(0, 1).all()
    assert ddpm["FID [classifier features] (paper)"].tolist() == [9.67, 9.46, 9.08, 126]  # beside CIFAR10's rows
    assert table[table["Dataset"] == "MNIST"][fid].isna().all(), "the VAE rows have no image metrics"
    markdown = (workdir / "results/tables/table1.md").read_text()
    assert "λ = 100" in markdown and "(paper)" in markdown


def test_outputs_beside_the_table(finished_run):
    workdir, _ = finished_run
    provenance = json.loads((workdir / "results/tables/table1.provenance.json").read_text())
    assert provenance["versions"]["torch"] and len(provenance["config_sha256"]) == 16
    assert provenance["config"]["experiments"]["digits_vae"]["forget_classes"] == [0]
    for figure in ["digits_vae/lambda100", "digits_ddpm/lambda10", "digits_ddpm/no_replay"]:
        assert (workdir / f"results/figures/{figure}.png").read_bytes()[:4] == b"\x89PNG"
    replay = torch.load(workdir / "results/digits_ddpm/replay.pt")
    assert replay["images"].shape == (40, 1, 8, 8) and replay["labels"].bincount().tolist() == [4] * 10
    classifier = json.loads((workdir / "results/classifiers/digits.json").read_text())
    assert classifier["test_accuracy"] > 0.5
    assert (workdir / "logs/forget_sa/digits_vae/lambda100.log").stat().st_size > 0
    assert not list((workdir / "results").rglob("*.ckpt")), "checkpoints are removed once a job is done"


def test_a_second_run_does_nothing(finished_run):
    workdir, configfile = finished_run
    assert planned_jobs(workdir, configfile) == {}


def test_changing_lambda_reruns_only_forget_and_downstream(finished_run):
    workdir, _ = finished_run
    changed = json.loads(json.dumps(TINY))
    changed["experiments"]["digits_vae"]["variants"]["lambda100"]["lambda"] = 50
    configfile = write_config(workdir / "changed.yaml", changed)
    assert planned_jobs(workdir, configfile) == {
        "forget_sa": 1, "sample_model": 1, "evaluate_model": 1, "plot_samples": 1, "make_table1": 1, "all": 1}


def test_changing_the_code_of_a_rule_reruns_that_rule(finished_run):
    workdir, configfile = finished_run
    fisher_code = workdir / "sa" / "fisher.py"
    original = fisher_code.read_text()
    try:
        fisher_code.write_text(original + "\n# an edit\n")
        jobs = planned_jobs(workdir, configfile)
    finally:
        fisher_code.write_text(original)
    # both experiments' FIMs, their 3 SA variants and what follows; no training, no baseline
    assert jobs == {"compute_fim": 2, "forget_sa": 3, "sample_model": 3, "evaluate_model": 3,
                    "plot_samples": 3, "make_table1": 1, "all": 1}


def test_the_default_and_paper_configs_dry_run(tmp_path):
    workdir = copy_workflow(tmp_path)
    for name in ["config.yaml", "paper.yaml"]:
        jobs = planned_jobs(workdir, workdir / "config" / name)
        assert {"prepare_dataset", "train_classifier", "train_generator", "compute_fim", "forget_sa",
                "sample_model", "evaluate_model", "plot_samples", "make_table1"} <= set(jobs), name


def test_the_paper_tier_plans_every_row_of_tables_2_to_4(tmp_path):
    workdir = copy_workflow(tmp_path)
    out = snakemake(workdir, workdir / "config" / "paper.yaml", "--dry-run", "--printshellcmds", "make_sd_tables")
    planned = set(re.findall(r"results/sd/(\w+)/(\w+)/(\w+)/metrics\.json", out.stdout))
    celebrity_rows = {"sd14", "sld", "esd", "sa"}
    assert planned == ({("brad_pitt", run, "celebrity") for run in celebrity_rows}
                       | {("angelina_jolie", run, "celebrity") for run in celebrity_rows}
                       | {("nudity", run, ev) for run in celebrity_rows | {"sd21"} for ev in ("i2p", "naked_person")})
    jobs = planned_jobs(workdir, workdir / "config" / "paper.yaml", "make_sd_tables")
    assert jobs["forget_sd"] == 3 and jobs["erase_sd"] == 3 and jobs["compute_sd_fim"] == 1
    assert jobs["download_sd_model"] == 2 and jobs["download_i2p"] == 1 and jobs["download_gcd"] == 1
