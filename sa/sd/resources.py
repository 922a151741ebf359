"""Where the Stable Diffusion artifacts live, and their download.

Three external artifacts, read by compute jobs and fetched only by ``snakemake download_all``
(where there is internet) through this module's command line:

- the diffusers models of ``stable_diffusion.models`` (name -> Hugging Face hub id, or a local
  diffusers folder used as is): a hub id is downloaded to ``<models_dir>/<name>/`` as a plain
  diffusers folder with fp32 safetensors weights and without the safety checker (load it with
  ``safety_checker=None``), ``model_index.json`` last, so that its presence means a complete folder;
- the I2P benchmark, ``i2p_benchmark.csv`` of the dataset repo AIML-TUDA/i2p, to ``i2p_csv``;
- the GIPHY Celebrity Detector's resources (``sa.sd.celebrity.fetch_gcd``) to ``gcd_dir``, which
  then holds the marker ``.complete``::

    python -m sa.sd.resources model sd14 CompVis/stable-diffusion-v1-4 resources/stable_diffusion/sd14
    python -m sa.sd.resources i2p resources/i2p/i2p_benchmark.csv
    python -m sa.sd.resources gcd resources/gcd

Offline, a download fails with one line naming what it needed; a job that finds an artifact
missing raises ``MissingResource`` with one line saying how to get it.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from sa.resources_paths import DownloadFailed, _one_line, run_download

DEFAULT_MODELS_DIR = "resources/stable_diffusion"
DEFAULT_GCD_DIR = "resources/gcd"
DEFAULT_I2P_CSV = "resources/i2p/i2p_benchmark.csv"
I2P_REPO = "AIML-TUDA/i2p"
I2P_FILE = "i2p_benchmark.csv"
GCD_MARKER = ".complete"
DOWNLOAD_HINT = "run `snakemake download_all --configfile config/paper.yaml` where there is internet"
OFFLINE_HINT = "the download stage needs internet (run it on a login node)"

MODEL_INDEX = "model_index.json"
# What StableDiffusionPipeline.from_pretrained(folder, safety_checker=None) reads, in fp32
# safetensors: no .ckpt, flax, fp16, non-EMA or .bin copies, no safety checker (1.2 GB, unused).
SD_FILES = [
    "scheduler/scheduler_config.json",
    "tokenizer/*",
    "text_encoder/config.json", "text_encoder/model.safetensors",
    "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
    "feature_extractor/preprocessor_config.json",
]
# Files a downloaded folder must hold (SD v1.x and v2.x alike); the feature extractor is optional.
SD_REQUIRED = [MODEL_INDEX, "scheduler/scheduler_config.json", "tokenizer/vocab.json", "tokenizer/merges.txt",
               *(f for f in SD_FILES if f.startswith(("text_encoder/", "unet/", "vae/")))]
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


class MissingResource(FileNotFoundError):
    """An artifact that a job needs and the download stage has not fetched; the message is one line."""


def is_local_model(source: str) -> bool:
    """Whether a ``stable_diffusion.models`` entry is a local folder (an existing directory, or a
    path: absolute, ``./``, ``~``, or more than one ``/``) rather than a hub id (``owner/name``)."""
    return Path(source).expanduser().is_dir() or not _HUB_ID.fullmatch(source)


def sd_model_dir(name: str, source: str, models_dir: str | os.PathLike = DEFAULT_MODELS_DIR) -> Path:
    """The diffusers folder of a model: a local folder as is, a hub id's download at ``<models_dir>/<name>``."""
    return Path(source).expanduser() if is_local_model(source) else Path(models_dir) / name


def require_sd_model(name: str, source: str, models_dir: str | os.PathLike = DEFAULT_MODELS_DIR) -> Path:
    """``sd_model_dir``, or ``MissingResource`` when that folder holds no ``model_index.json``."""
    folder = sd_model_dir(name, source, models_dir)
    if not (folder / MODEL_INDEX).is_file():
        if is_local_model(source):
            raise MissingResource(f"Stable Diffusion model {name}: the local folder {folder} holds no {MODEL_INDEX} "
                                  "(stable_diffusion.models needs a diffusers folder or a hub id)")
        raise MissingResource(f"Stable Diffusion model {name} ({source} on the Hugging Face hub) is not in "
                              f"{folder} (no {MODEL_INDEX}); {DOWNLOAD_HINT}")
    return folder


def require_i2p(path: str | os.PathLike = DEFAULT_I2P_CSV) -> Path:
    """The I2P benchmark CSV, or ``MissingResource`` when it is not there."""
    path = Path(path)
    if not path.is_file():
        raise MissingResource(f"the I2P benchmark ({I2P_FILE} of the dataset {I2P_REPO} on the Hugging Face hub) "
                              f"is not at {path}; {DOWNLOAD_HINT}")
    return path


def gcd_marker(gcd_dir: str | os.PathLike = DEFAULT_GCD_DIR) -> str:
    """The file that the download stage writes once the GIPHY Celebrity Detector is in ``gcd_dir``."""
    return f"{gcd_dir}/{GCD_MARKER}"


def sd_locations(config: dict) -> dict[str, str]:
    """``models_dir``, ``gcd_dir`` and ``i2p_csv`` of a config's ``stable_diffusion`` section (defaults
    where absent)."""
    sd = config.get("stable_diffusion") or {}
    return {"models_dir": sd.get("models_dir", DEFAULT_MODELS_DIR), "gcd_dir": sd.get("gcd_dir", DEFAULT_GCD_DIR),
            "i2p_csv": sd.get("i2p_csv", DEFAULT_I2P_CSV)}


def sd_artifacts_needed(config: dict) -> dict:
    """What the download stage fetches for a config's ``stable_diffusion`` section:
    ``{"models": {name: hub id} (local folders left out), "i2p": bool (an evaluation with
    prompts: i2p), "gcd": bool (an evaluation for table2)}``; nothing without the section."""
    sd = config.get("stable_diffusion") or {}
    evaluations = [spec for exp in (sd.get("experiments") or {}).values()
                   for spec in ((exp or {}).get("evaluations") or {}).values()]
    return {"models": {name: source for name, source in (sd.get("models") or {}).items() if not is_local_model(source)},
            "i2p": any(spec.get("prompts") == "i2p" for spec in evaluations),
            "gcd": any(spec.get("table") == "table2" for spec in evaluations)}


@contextlib.contextmanager
def _quiet_hub():
    """The hub client's warnings (one per retry) silenced, so that a failure stays one line."""
    from huggingface_hub.utils import logging as hub_logging

    before = hub_logging.get_verbosity()
    hub_logging.set_verbosity_error()
    try:
        yield
    finally:
        hub_logging.set_verbosity(before)


def _reason(err: BaseException) -> str:
    """One line: the error and, when it wraps one (the hub client does), the error at the bottom."""
    root, seen = err, {id(err)}
    while (root.__cause__ or root.__context__) is not None and id(root.__cause__ or root.__context__) not in seen:
        root = root.__cause__ or root.__context__
        seen.add(id(root))
    text = _one_line(err)
    return text if root is err or _one_line(root) in text else f"{text} (cause: {_one_line(root, 200)})"


def fetch_sd_model(source: str, dest: str | os.PathLike) -> Path:
    """Download a hub model's diffusers files (``SD_FILES``) into ``dest``, ``model_index.json`` last."""
    from huggingface_hub import hf_hub_download, snapshot_download

    dest = Path(dest)
    what = f"Stable Diffusion model {source} (Hugging Face hub) into {dest}"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MODEL_INDEX).unlink(missing_ok=True)
    try:
        with _quiet_hub():
            snapshot_download(source, local_dir=dest, allow_patterns=SD_FILES)
            hf_hub_download(source, MODEL_INDEX, local_dir=dest)
    except Exception as err:
        raise DownloadFailed(f"could not download {what}: {_reason(err)}; {OFFLINE_HINT}") from None
    missing = [f for f in SD_REQUIRED if not (dest / f).is_file()]
    if missing:
        (dest / MODEL_INDEX).unlink(missing_ok=True)
        raise DownloadFailed(f"could not download {what}: the repository lacks {', '.join(missing)} "
                             "(a diffusers Stable Diffusion repository with fp32 safetensors is needed)")
    return dest


def fetch_i2p(dest: str | os.PathLike = DEFAULT_I2P_CSV) -> Path:
    """Download the I2P benchmark CSV to ``dest`` (any file name), checking its columns."""
    from huggingface_hub import hf_hub_download

    from sa.sd.prompts import I2P_COLUMNS

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    what = f"the I2P benchmark ({I2P_FILE} of the dataset {I2P_REPO}, Hugging Face hub) to {dest}"
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".i2p-") as tmp:
        try:
            with _quiet_hub():
                got = Path(hf_hub_download(I2P_REPO, I2P_FILE, repo_type="dataset", local_dir=tmp))
        except Exception as err:
            raise DownloadFailed(f"could not download {what}: {_reason(err)}; {OFFLINE_HINT}") from None
        with open(got, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
        missing = [c for c in I2P_COLUMNS if c not in header]
        if missing:
            raise DownloadFailed(f"could not download {what}: the file lacks the column(s) {', '.join(missing)}")
        shutil.move(str(got), dest)
    return dest


def fetch_gcd_resources(dest: str | os.PathLike = DEFAULT_GCD_DIR) -> Path:
    """``sa.sd.celebrity.fetch_gcd`` into ``dest``, then the marker ``dest/.complete``."""
    dest = Path(dest)
    try:
        from sa.sd.celebrity import fetch_gcd

        fetch_gcd(dest)
    except Exception as err:
        raise DownloadFailed(f"could not download the GIPHY Celebrity Detector into {dest}: {_reason(err)}; "
                             f"{OFFLINE_HINT}") from None
    marker = Path(gcd_marker(dest))
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("fetched by python -m sa.sd.resources gcd\n")
    return dest


USAGE = ("usage: python -m sa.sd.resources model NAME HUB_ID DEST | i2p DEST_CSV | gcd DEST_DIR")


def main(argv: list[str]) -> int:
    arity = {"model": 4, "i2p": 2, "gcd": 2}
    if not argv or arity.get(argv[0]) != len(argv):
        print(USAGE, file=sys.stderr)
        return 2
    kind = argv[0]
    if kind == "model":
        name, source, dest = argv[1:]
        if is_local_model(source):
            print(f"error: {source} (model {name}) is a local folder, not a hub id; nothing to download",
                  file=sys.stderr)
            return 2
        return run_download(lambda: fetch_sd_model(source, dest), name)
    fetch = fetch_i2p if kind == "i2p" else fetch_gcd_resources
    return run_download(lambda: fetch(argv[1]), kind)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
