"""Set-up shared by every job: logging to a file and the console, seeds, torch threads, provenance."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import random
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import torch


def start_job(log_path: str | os.PathLike | None, seed: int | None = None, threads: int | None = None) -> logging.Logger:
    """Log to ``log_path`` and stderr, seed every RNG, and bound torch's threads."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s",
                        handlers=handlers, force=True)
    if threads:
        torch.set_num_threads(int(threads))
    if seed is not None:
        seed_everything(seed)
    return logging.getLogger("sa")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


PACKAGES = ("torch", "torchvision", "numpy", "pandas", "snakemake", "diffusers", "transformers",
            "torch-fidelity", "nudenet", "selective-amnesia")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def git_commit(directory: str | os.PathLike) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def provenance(config: dict, source_dir: str | os.PathLike) -> dict:
    return {"config_sha256": config_hash(config), "git_commit": git_commit(source_dir),
            "versions": package_versions(), "config": config}
