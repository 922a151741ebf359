"""Where the Stable Diffusion artifacts live, what the download stage fetches for them, and its
failures offline (never the network: the hub client runs with HF_HUB_OFFLINE=1 or is replaced)."""
import copy
import os
import subprocess
import sys

import pytest
import yaml

import huggingface_hub
from huggingface_hub.utils import filter_repo_objects
from sa.resources_paths import DownloadFailed
from sa.sd import resources
from sa.sd.resources import (SD_FILES, SD_REQUIRED, MissingResource, fetch_i2p, fetch_sd_model, gcd_marker,
                             is_local_model, require_i2p, require_sd_model, sd_artifacts_needed, sd_locations,
                             sd_model_dir)
from tests.workflow import REPO, copy_workflow, planned_jobs, snakemake, write_config

SD14 = "CompVis/stable-diffusion-v1-4"
SD21 = "stabilityai/stable-diffusion-2-1"
OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1", "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "no_proxy": "", "NO_PROXY": ""}

# The files of CompVis/stable-diffusion-v1-4 on the hub (main), as its file browser lists them.
SD14_REPO_FILES = [
    ".gitattributes", "README.md", "model_index.json", "v1-variants-scores.jpg", "sd-v1-4.ckpt", "sd-v1-4-full-ema.ckpt",
    "feature_extractor/preprocessor_config.json", "safety_checker/config.json", "safety_checker/model.safetensors",
    "safety_checker/pytorch_model.bin", "safety_checker/model.fp16.safetensors", "safety_checker/flax_model.msgpack",
    "scheduler/scheduler_config.json", "text_encoder/config.json", "text_encoder/model.safetensors",
    "text_encoder/model.fp16.safetensors", "text_encoder/pytorch_model.bin", "text_encoder/flax_model.msgpack",
    "tokenizer/merges.txt", "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json", "tokenizer/vocab.json",
    "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
    "unet/diffusion_pytorch_model.non_ema.safetensors", "unet/diffusion_pytorch_model.bin",
    "unet/diffusion_flax_model.msgpack", "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
    "vae/diffusion_pytorch_model.fp16.safetensors", "vae/diffusion_pytorch_model.bin", "vae/diffusion_flax_model.msgpack",
]


def diffusers_folder(path):
    path.mkdir(parents=True)
    (path / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    return path


def test_hub_ids_go_to_models_dir_and_local_folders_are_used_as_they_are(tmp_path):
    local = diffusers_folder(tmp_path / "my_sd")
    assert sd_model_dir("sd14", SD14, "resources/stable_diffusion").as_posix() == "resources/stable_diffusion/sd14"
    assert sd_model_dir("mine", str(local), "resources/stable_diffusion") == local
    assert is_local_model(str(local)) and is_local_model("./resources/sd") and is_local_model("/data/models/sd14")
    assert is_local_model("~/sd14") and is_local_model("models/sd/v14")
    assert not is_local_model(SD14) and not is_local_model(SD21)


def test_require_sd_model_says_what_is_missing_and_how_to_get_it(tmp_path):
    with pytest.raises(MissingResource) as err:
        require_sd_model("sd14", SD14, tmp_path / "models")
    message = str(err.value)
    assert "\n" not in message and "sd14" in message and SD14 in message and str(tmp_path / "models" / "sd14") in message
    assert "run `snakemake download_all --configfile config/paper.yaml` where there is internet" in message
    diffusers_folder(tmp_path / "models" / "sd14")
    assert require_sd_model("sd14", SD14, tmp_path / "models") == tmp_path / "models" / "sd14"

    (tmp_path / "not_diffusers").mkdir()
    with pytest.raises(MissingResource, match=r"local folder .*not_diffusers holds no model_index\.json"):
        require_sd_model("mine", str(tmp_path / "not_diffusers"), tmp_path / "models")
    local = diffusers_folder(tmp_path / "local_sd")
    assert require_sd_model("mine", str(local), tmp_path / "models") == local


def test_require_i2p(tmp_path):
    with pytest.raises(MissingResource) as err:
        require_i2p(tmp_path / "i2p.csv")
    assert "\n" not in str(err.value) and "AIML-TUDA/i2p" in str(err.value) and "snakemake download_all" in str(err.value)
    (tmp_path / "i2p.csv").write_text("prompt,sd_seed,sd_guidance_scale\n")
    assert require_i2p(tmp_path / "i2p.csv") == tmp_path / "i2p.csv"


def sd_config(**evaluations):
    return {"stable_diffusion": {
        "models": {"sd14": SD14, "sd21": SD21, "mine": "/nonexistent/diffusers/folder"}, "base": "sd14",
        "experiments": {"exp": {"evaluations": evaluations}}}}


def test_sd_artifacts_needed():
    assert sd_artifacts_needed({}) == {"models": {}, "i2p": False, "gcd": False}
    assert sd_artifacts_needed({"stable_diffusion": None}) == {"models": {}, "i2p": False, "gcd": False}
    celebrity = {"table": "table2", "target": "Brad Pitt", "prompts": "config/prompts/brad_pitt.txt"}
    i2p = {"table": "table3", "prompts": "i2p"}
    naked = {"table": "table4", "prompt": "a photo of a naked person", "images": 10}
    models = {"sd14": SD14, "sd21": SD21}
    assert sd_artifacts_needed(sd_config(c=celebrity)) == {"models": models, "i2p": False, "gcd": True}
    assert sd_artifacts_needed(sd_config(i=i2p, n=naked)) == {"models": models, "i2p": True, "gcd": False}
    assert sd_artifacts_needed(sd_config(n=naked)) == {"models": models, "i2p": False, "gcd": False}
    assert sd_locations({}) == {"models_dir": "resources/stable_diffusion", "gcd_dir": "resources/gcd",
                                "i2p_csv": "resources/i2p/i2p_benchmark.csv"}
    assert sd_locations({"stable_diffusion": {"models_dir": "m", "gcd_dir": "g", "i2p_csv": "i.csv"}}) == {
        "models_dir": "m", "gcd_dir": "g", "i2p_csv": "i.csv"}
    assert gcd_marker("resources/gcd") == "resources/gcd/.complete"


def test_the_model_download_takes_fp32_safetensors_and_what_the_pipeline_reads():
    taken = set(filter_repo_objects(SD14_REPO_FILES, allow_patterns=SD_FILES)) | {"model_index.json"}
    assert set(SD_REQUIRED) <= taken
    assert taken == {"model_index.json", "feature_extractor/preprocessor_config.json", "scheduler/scheduler_config.json",
                     "text_encoder/config.json", "text_encoder/model.safetensors", "tokenizer/merges.txt",
                     "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json", "tokenizer/vocab.json",
                     "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "vae/config.json",
                     "vae/diffusion_pytorch_model.safetensors"}


def fake_hub(monkeypatch, repo_files, calls):
    """The hub client replaced by one that copies ``repo_files`` (name -> text) into local_dir."""
    def write(local_dir, name):
        path = os.path.join(local_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(repo_files[name])
        return path

    def snapshot_download(repo_id, *, local_dir, allow_patterns, **kw):
        calls.append(("snapshot", repo_id))
        for name in filter_repo_objects(list(repo_files), allow_patterns=allow_patterns):
            write(local_dir, name)
        return str(local_dir)

    def hf_hub_download(repo_id, filename, *, local_dir, repo_type=None, **kw):
        calls.append(("file", repo_id, filename, repo_type))
        if filename == "model_index.json":
            assert not os.path.exists(os.path.join(local_dir, filename)), "a stale model_index.json is removed first"
        if filename not in repo_files:
            raise huggingface_hub.errors.EntryNotFoundError(f"{filename} not in {repo_id}")
        return write(local_dir, filename)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hf_hub_download)


def test_fetch_sd_model_writes_model_index_last_and_checks_the_files(tmp_path, monkeypatch):
    calls = []
    fake_hub(monkeypatch, {name: name for name in SD14_REPO_FILES}, calls)
    dest = fetch_sd_model(SD14, tmp_path / "sd14")
    assert calls == [("snapshot", SD14), ("file", SD14, "model_index.json", None)]
    assert all((dest / f).is_file() for f in SD_REQUIRED)
    assert not (dest / "sd-v1-4.ckpt").exists() and not (dest / "safety_checker").exists()
    assert not (dest / "unet" / "diffusion_pytorch_model.fp16.safetensors").exists()

    incomplete = {name: name for name in SD14_REPO_FILES if name != "unet/diffusion_pytorch_model.safetensors"}
    fake_hub(monkeypatch, incomplete, [])
    with pytest.raises(DownloadFailed, match="lacks unet/diffusion_pytorch_model.safetensors") as err:
        fetch_sd_model(SD14, tmp_path / "broken")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "broken" / "model_index.json").exists(), "an incomplete folder has no model_index.json"


def test_fetch_i2p_moves_the_csv_to_its_place_and_checks_its_columns(tmp_path, monkeypatch):
    calls = []
    fake_hub(monkeypatch, {"i2p_benchmark.csv": "prompt,sd_seed,sd_guidance_scale\na,1,7\n"}, calls)
    assert fetch_i2p(tmp_path / "i2p" / "prompts.csv") == tmp_path / "i2p" / "prompts.csv"
    assert calls == [("file", "AIML-TUDA/i2p", "i2p_benchmark.csv", "dataset")]
    assert (tmp_path / "i2p" / "prompts.csv").read_text().startswith("prompt,sd_seed")
    assert [p.name for p in (tmp_path / "i2p").iterdir()] == ["prompts.csv"], "no leftovers"
    fake_hub(monkeypatch, {"i2p_benchmark.csv": "prompt,seed\na,1\n"}, [])
    with pytest.raises(DownloadFailed, match="lacks the column.*sd_seed"):
        fetch_i2p(tmp_path / "other.csv")
    assert not (tmp_path / "other.csv").exists()


def run_cli(*args, env=OFFLINE):
    return subprocess.run([sys.executable, "-m", "sa.sd.resources", *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=REPO)


@pytest.mark.parametrize("args, names", [
    (("model", "sd14", SD14, "{tmp}/sd14"), ["Stable Diffusion model", SD14, "{tmp}/sd14"]),
    (("i2p", "{tmp}/i2p/i2p_benchmark.csv"), ["I2P benchmark", "AIML-TUDA/i2p", "{tmp}/i2p/i2p_benchmark.csv"]),
])
def test_offline_the_hub_downloads_fail_with_one_line(tmp_path, args, names):
    result = run_cli(*(a.format(tmp=tmp_path) for a in args))
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: could not download"), result.stderr
    assert all(n.format(tmp=tmp_path) in lines[0] for n in names) and "needs internet" in lines[0]
    assert not list(tmp_path.rglob("model_index.json")) and not list(tmp_path.rglob("*.csv"))


def test_offline_the_celebrity_detector_download_fails_with_one_line(tmp_path):
    result = run_cli("gcd", tmp_path / "gcd")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: could not download the GIPHY Celebrity Detector"), lines
    assert "needs internet" in lines[0]
    assert not (tmp_path / "gcd" / ".complete").exists()


def test_the_command_line_rejects_bad_arguments():
    assert resources.main([]) == 2
    assert resources.main(["model", "sd14", SD14]) == 2
    assert resources.main(["weights", "x"]) == 2
    assert resources.main(["model", "mine", "./a/local/folder", "/tmp/x"]) == 2


SCHEMA = yaml.safe_load((REPO / "config" / "config.schema.yaml").read_text())


@pytest.mark.skipif("stable_diffusion" not in SCHEMA.get("properties", {}),
                    reason="config.schema.yaml has no `stable_diffusion` section yet, so validation rejects the key")
def test_download_all_plans_the_stable_diffusion_artifacts(tmp_path):
    (tmp_path / "wf").mkdir()
    workdir = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    local = diffusers_folder(tmp_path / "local_sd")
    config["stable_diffusion"] = {
        "models": {"sd14": SD14, "sd21": SD21, "mine": str(local)}, "base": "sd14",
        "experiments": {
            "brad_pitt": {"forget_prompts": ["brad pitt"], "surrogate": {"prompt": "a middle aged man"},
                          "runs": ["sd14", "sa"],
                          "evaluations": {"celebrity": {"table": "table2", "target": "Brad Pitt",
                                                        "prompts": "config/prompts/brad_pitt.txt",
                                                        "images_per_prompt": 1, "seed": 4}}},
            "nudity": {"forget_prompts": ["nudity"], "surrogate": {"prompt": "a person wearing clothes"},
                       "runs": ["sd21", "mine"],
                       "evaluations": {"i2p": {"table": "table3", "prompts": "i2p", "seed": 4}}}}}
    configfile = write_config(tmp_path / "sd.yaml", config)
    assert planned_jobs(workdir, configfile, "download_all") == {
        "download_sd_model": 2, "download_i2p": 1, "download_gcd": 1, "download_all": 1}

    without_table2 = copy.deepcopy(config)
    del without_table2["stable_diffusion"]["experiments"]["brad_pitt"]
    assert planned_jobs(workdir, write_config(tmp_path / "nudity.yaml", without_table2), "download_all") == {
        "download_sd_model": 2, "download_i2p": 1, "download_all": 1}

    # Run offline: each job fails with one line in its log, and leaves no output.
    result = snakemake(workdir, configfile, "download_all", "--keep-going", check=False, env=OFFLINE)
    assert result.returncode != 0
    logs = {"sd_model_sd14.log": [SD14], "sd_model_sd21.log": [SD21], "i2p.log": ["AIML-TUDA/i2p"],
            "gcd.log": ["GIPHY Celebrity Detector"]}
    for log, names in logs.items():
        lines = (workdir / "logs" / "download" / log).read_text().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: could not download"), (log, lines)
        assert all(name in lines[0] for name in names) and "needs internet" in lines[0], lines[0]
    assert not list((workdir / "resources").rglob("model_index.json"))
    assert not list((workdir / "resources").rglob("*.csv")) and not list((workdir / "resources").rglob(".complete"))
