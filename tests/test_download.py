"""The download stage: what it fetches for a config, where compute jobs find it, and its failure offline."""
import copy
import os

import pytest
import torchvision
import yaml

from sa.data import REGISTRY
from sa.resources_paths import DATASETS, WEIGHTS, artifacts_needed, dataset_folder, weights_path
from tests.workflow import REPO, copy_workflow, planned_jobs, snakemake, write_config

PAPER = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())


def validated(config):
    """A config with the schema's defaults filled in, as the rules see it."""
    from snakemake.utils import validate

    config = copy.deepcopy(config)
    validate(config, str(REPO / "config" / "config.schema.yaml"), set_default=True)
    return config


def test_the_downloads_are_the_datasets_and_weights_that_the_code_reads():
    assert set(DATASETS) == {name for name, info in REGISTRY.items() if info.needs_download}
    for name, spec in DATASETS.items():
        cls = getattr(torchvision.datasets, spec.cls)
        assert getattr(cls, "base_folder", cls.__name__) == spec.folder, name
    assert WEIGHTS["resnet34"].url == torchvision.models.ResNet34_Weights.IMAGENET1K_V1.url
    assert weights_path("resnet34") == "resources/torch/hub/checkpoints/resnet34-b627a593.pth"
    assert dataset_folder("cifar10", "resources/datasets") == "resources/datasets/cifar-10-batches-py"


def test_the_inception_weights_are_those_of_torch_fidelity():
    inception = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
    assert WEIGHTS["inception"].url == inception.URL_INCEPTION_V3


def test_each_tier_downloads_what_its_jobs_read():
    assert artifacts_needed(validated(PAPER)) == (["cifar10", "mnist", "stl10"], ["resnet34", "inception"])
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert artifacts_needed(validated(default)) == ([], [])


def test_download_all_plans_one_job_per_artifact(tmp_path):
    workdir = copy_workflow(tmp_path)
    assert planned_jobs(workdir, workdir / "config" / "paper.yaml", "download_all") == {
        "download_dataset": 3, "download_weights": 2, "download_sd_model": 2, "download_i2p": 1, "download_gcd": 1,
        "download_all": 1}
    assert planned_jobs(workdir, workdir / "config" / "config.yaml", "download_all") == {"download_all": 1}, \
        "the default tier needs no download"


def test_offline_a_download_fails_with_one_line_naming_what_it_needed(tmp_path):
    workdir = copy_workflow(tmp_path)
    config = copy.deepcopy(PAPER)  # MNIST, with the ResNet34 classifier and Inception features
    config["experiments"] = {"mnist_vae": config["experiments"]["mnist_vae"]}
    config["classifier"]["arch"] = "resnet34"
    config["experiments"]["mnist_vae"]["evaluate"].update(image_metrics=True, features="inception")
    configfile = write_config(tmp_path / "offline.yaml", config)
    # Every URL goes through a proxy that refuses connections: offline, whatever this machine has.
    offline = {**os.environ, "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
               "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "no_proxy": "", "NO_PROXY": ""}

    result = snakemake(workdir, configfile, "download_all", "--keep-going", check=False, env=offline)

    assert result.returncode != 0
    expected = {"MNIST.log": ["dataset mnist", "torchvision.datasets.MNIST", "resources/datasets/MNIST"],
                "resnet34-b627a593.pth.log": ["ResNet34 ImageNet weights", WEIGHTS["resnet34"].url],
                "weights-inception-2015-12-05-6726825d.pth.log": ["Inception-v3 weights", WEIGHTS["inception"].url]}
    for log, names in expected.items():
        lines = (workdir / "logs" / "download" / log).read_text().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: could not download"), lines
        assert all(name in lines[0] for name in names) and "needs internet" in lines[0], lines[0]
        assert lines[0] in result.stdout + result.stderr, "the line shows where Snakemake runs, too"
    assert not (workdir / "resources" / "datasets" / "MNIST").exists(), "a failed download leaves no output"
    assert not list((workdir / "resources").rglob("*.pth"))
