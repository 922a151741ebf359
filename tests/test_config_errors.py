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
