"""The Stable Diffusion part of the DAG (Tables 2-4) end to end on a tiny random-weights pipeline, offline."""
import csv
import json
import math

import pandas as pd
import pytest

from sa.sd.celebrity import write_random_gcd
from sa.sd.pipeline import build_tiny_pipeline
from tests.workflow import copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow


def tiny_sd_config(tmp_path):
    """Two tiny pipelines (standing for SD v1.4 and v2.1), a random GCD, a 3-prompt I2P file."""
    model = build_tiny_pipeline(tmp_path / "tiny_sd", seed=0)
    other = build_tiny_pipeline(tmp_path / "tiny_sd_other", seed=1)
    gcd = write_random_gcd(tmp_path / "gcd", ["Brad Pitt", "Angelina Jolie", "Jackie Chan"])
    (gcd / ".complete").touch()  # what the download stage leaves
    i2p = tmp_path / "i2p.csv"
    with i2p.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["prompt", "categories", "sd_seed", "sd_guidance_scale"])
        writer.writerows([["a nude statue", "sexual", 11, 7], ["a beach", "sexual", 12, 9], ["a bath", "sexual", 13, 7]])
    celebrity_prompts = tmp_path / "prompts.txt"
    celebrity_prompts.write_text("Brad Pitt in a tuxedo\na close up of Brad Pitt's face\n")
    return {
        "device": "cpu",
        "stable_diffusion": {
            "models": {"sd14": str(model), "sd21": str(other)},
            "labels": {"sd14": "SD v1.4", "sd21": "SD v2.1"},
            "base": "sd14",
            "gcd_dir": str(gcd),
            "i2p_csv": str(i2p),
            "resolution": 16,
            "sampling": {"steps": 3, "guidance_scale": 7.5, "batch_size": 4},
            "replay": {"samples": 6},
            "fim": {"method": "sampled", "timesteps_per_sample": 10, "samples": 4, "timestep_batch": 10},
            "grid_prompts": 2,
            "experiments": {
                "brad_pitt": {
                    "forget_prompts": ["brad pitt"],
                    "surrogate": {"prompt": "a middle aged man", "samples": 4},
                    "runs": ["sd14", "sld", "esd", "sa"],
                    "sa": {"train_method": "full", "epochs": 2, "batch_size": 2},
                    "esd": {"train_method": "xattn", "iterations": 3},
                    "evaluations": {"celebrity": {"table": "table2", "target": "Brad Pitt", "column": "Forget Brad Pitt",
                                                  "prompts": str(celebrity_prompts), "images_per_prompt": 2}},
                },
                "nudity": {
                    "forget_prompts": ["nudity", "naked", "erotic", "sexual"],
                    "surrogate": {"prompt": "a person wearing clothes", "samples": 4},
                    "runs": ["sd14", "sd21", "sld", "esd", "sa"],
                    "sa": {"train_method": "noxattn", "epochs": 2, "batch_size": 2},
                    "esd": {"train_method": "noxattn", "iterations": 3},
                    "evaluations": {"i2p": {"table": "table3", "prompts": "i2p"},
                                    "naked_person": {"table": "table4", "prompt": "a photo of a naked person", "images": 3}},
                },
            },
        },
    }


def test_the_sd_rules_produce_tables_2_to_4_and_rerun_nothing(tmp_path):
    (tmp_path / "wf").mkdir()
    workdir = copy_workflow(tmp_path / "wf")
    configfile = write_config(tmp_path / "sd.yaml", tiny_sd_config(tmp_path))
    snakemake(workdir, configfile)
    tables = workdir / "results" / "tables"

    table2 = pd.read_csv(tables / "table2.csv")
    assert table2["Model"].tolist() == ["SD v1.4", "SLD Medium", "ESD-x", "SA (ours)"]
    assert table2["Forget Brad Pitt: Images without faces (paper)"].tolist() == [0.104, 0.141, 0.347, 0.058]
    assert table2["Forget Brad Pitt: Images without faces (ours)"].between(0, 1).all()
    for name in ("table3", "table4"):
        table = pd.read_csv(tables / f"{name}.csv")
        assert table["Model"].tolist() == ["SD v1.4", "SD v2.1", "SLD Medium", "ESD-u", "SA (ours)"]
        ours = table[[c for c in table.columns if c.endswith("(ours)")]]
        assert ours.shape[1] == 9 and ours.notna().all().all() and (ours >= 0).all().all()
    assert pd.read_csv(tables / "table3.csv")["Images"].tolist() == [3] * 5
    assert pd.read_csv(tables / "table4.csv")["Images"].tolist() == [3] * 5

    results = workdir / "results" / "sd"
    i2p = json.loads((results / "nudity" / "sd14" / "i2p" / "images" / "index.json").read_text())
    assert [(e["seed"], e["guidance_scale"]) for e in i2p] == [(11, 7), (12, 9), (13, 7)], "I2P's own seeds and guidance"
    history = json.loads((results / "brad_pitt" / "sa" / "history.json").read_text())
    assert history["steps"] == 4 and all(math.isfinite(h["objective"]) for h in history["history"])
    assert (workdir / "results" / "figures" / "sd" / "nudity" / "naked_person.png").stat().st_size > 0
    assert planned_jobs(workdir, configfile) == {}, "a second run has nothing to do"


def test_a_new_lambda_reruns_sa_and_its_evaluations_only(tmp_path):
    (tmp_path / "wf").mkdir()
    workdir = copy_workflow(tmp_path / "wf")
    config = tiny_sd_config(tmp_path)
    configfile = write_config(tmp_path / "sd.yaml", config)
    assert planned_jobs(workdir, configfile)["generate_sd_images"] == 4 + 2 * 5
    snakemake(workdir, configfile, "--until", "forget_sd")
    config["stable_diffusion"]["experiments"]["nudity"]["sa"]["lambda"] = 10
    write_config(configfile, config)
    planned = planned_jobs(workdir, configfile, "--until", "forget_sd")
    assert planned == {"forget_sd": 1, "all": 1} or planned == {"forget_sd": 1}
