"""Running Snakemake on a config in a scratch folder, for the workflow tests."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
WORKFLOW_PARTS = ["Snakefile", "rules", "workflow_scripts", "config", "sa", "report", "profiles"]


def copy_workflow(dest: Path) -> Path:
    """A private copy of the workflow (so a test may edit its code or config)."""
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / part)
    return dest


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def snakemake(workdir: Path, configfile: Path, *args: str, check: bool = True,
              env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, "--snakefile", str(workdir / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(configfile), "--cores", "2", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    return result


def planned_jobs(workdir: Path, configfile: Path, *args: str) -> dict[str, int]:
    """Rule name -> number of jobs a dry run would execute."""
    out = snakemake(workdir, configfile, "--dry-run", *args)
    text = out.stdout + out.stderr
    if "Nothing to be done" in text:
        return {}
    stats = text.split("Job stats:")[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M) if m.group(1) != "total"}
