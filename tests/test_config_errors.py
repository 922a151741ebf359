"""Bad input stops before any job starts, with a message naming the key at fault."""
import copy

import pytest
import yaml

from sa.config_check import config_problems
from tests.workflow import REPO, copy_workflow, snakemake, write_config

TINY = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())


def _broken(edit):
    config = copy.deepcopy(TINY)
    edit(config["experiments"]["digits_vae"], config)
    return config


CASES = {
    "unknown dataset": (lambda e, c: e.update(dataset="imagenet"), "dataset"),
    "negative lambda": (lambda e, c: e["variants"]["lambda100"].update({"lambda": -1}), "lambda"),
    "class not in dataset": (lambda e, c: e.update(forget_classes=[12]), "forget_classes"),
    "misspelled key": (lambda e, c: e["forget"].update(lamda=3), "lamda"),
    "misspelled top-level key": (lambda e, c: c.update(experimnts={}), "experimnts"),
}


@pytest.mark.parametrize("case", CASES)
def test_invalid_config_stops_before_any_job(tmp_path, case):
    edit, key = CASES[case]
    workdir = copy_workflow(tmp_path)
    configfile = write_config(tmp_path / "bad.yaml", _broken(edit))
    result = snakemake(workdir, configfile, check=False)
    assert result.returncode != 0
    assert key in result.stderr + result.stdout
    assert not (workdir / "results").exists(), "no job may start on an invalid config"


def test_semantic_checks_name_the_key():
    assert config_problems(TINY) == []
    problems = config_problems(_broken(lambda e, c: e.update(forget_classes=list(range(10)))))
    assert any("leaves nothing to remember" in p for p in problems)
    problems = config_problems(_broken(lambda e, c: e["variants"].update(original={"label": "x"})))
    assert any("experiments.digits_vae.variants.original" in p for p in problems)


def test_a_dataset_that_needs_a_download_fails_in_one_line_and_leaves_no_output(tmp_path):
    workdir = copy_workflow(tmp_path)
    configfile = write_config(tmp_path / "mnist.yaml", _broken(lambda e, c: e.update(dataset="mnist")))
    result = snakemake(workdir, configfile, "results/data/mnist.npz", check=False)
    assert result.returncode != 0
    log = (workdir / "logs/prepare_dataset/mnist.log").read_text()
    assert "dataset MNIST is not in" in log and "Traceback" not in log
    assert not (workdir / "results/data/mnist.npz").exists()


def _sd_config(tmp_path):
    model = tmp_path / "sd"
    model.mkdir()
    (model / "model_index.json").write_text("{}")
    return {"stable_diffusion": {
        "models": {"sd14": str(model)}, "base": "sd14",
        "experiments": {"celebrity": {
            "forget_prompts": ["brad pitt"], "surrogate": {"prompt": "a middle aged man"}, "runs": ["sd14", "sa"],
            "evaluations": {"faces": {"table": "table2", "target": "Brad Pitt", "prompt": "Brad Pitt", "images": 2}}}}}}


SD_CASES = {
    "base is not a model": (lambda sd, e, t: sd.update(base="sd15"), "stable_diffusion.base"),
    "unknown row": (lambda sd, e, t: e.update(runs=["sd14", "sdl"]), "stable_diffusion.experiments.celebrity.runs"),
    "folder without a pipeline": (lambda sd, e, t: sd["models"].update(sd14=str(t)), "stable_diffusion.models.sd14"),
    "celebrity unnamed": (lambda sd, e, t: e["evaluations"]["faces"].pop("target"),
                          "stable_diffusion.experiments.celebrity.evaluations.faces.target"),
    "two prompt sources": (lambda sd, e, t: e["evaluations"]["faces"].update(prompts="i2p"),
                           "stable_diffusion.experiments.celebrity.evaluations.faces"),
}


@pytest.mark.parametrize("case", SD_CASES)
def test_stable_diffusion_problems_name_the_key(tmp_path, case):
    config = _sd_config(tmp_path)
    assert config_problems(config) == []
    edit, key = SD_CASES[case]
    sd = config["stable_diffusion"]
    edit(sd, sd["experiments"]["celebrity"], tmp_path)
    problems = config_problems(config)
    assert len(problems) == 1 and problems[0].startswith(key), problems


def test_a_config_with_nothing_to_run_is_refused():
    assert any("nothing to run" in p for p in config_problems({"experiments": {}}))
