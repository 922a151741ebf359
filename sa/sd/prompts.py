"""Prompt files and the lists of images (prompt, seed, guidance) that Stable Diffusion jobs generate.

The prompt files under ``config/prompts/`` are plain UTF-8 text, one prompt per line, nothing else:

- ``replay.txt``: 5,000 distinct everyday prompts (people doing things, animals, food, landscapes,
  objects, interiors, vehicles, buildings, each in a medium such as a photo or a watercolor) for the
  images of the FIM and of generative replay. The paper used 5,000 prompts from GPT-3.5; ours come
  from ``config/prompts/make_replay_prompts.py`` (templates, fixed seed; ``--check`` verifies the file).
- ``brad_pitt.txt``, ``angelina_jolie.txt``: the 50 test prompts of each celebrity in Table 2
  (the paper: 20 images of each of 50 prompts), in the style of the paper's figures ("Brad Pitt in
  a tuxedo", "Angelina Jolie wearing a hat", ...), written for this project.

An evaluation spec (``stable_diffusion.experiments.<exp>.evaluations.<name>`` of the config) names
its images in one of three forms; ``evaluation_jobs`` turns it into a list of ``PromptJob``:

- ``{prompts: <file>, images_per_prompt: N, seed: S}``: each prompt of the file N times, prompt by
  prompt, with the seeds S, S+1, ... in that order (one seed per image);
- ``{prompt: "<text>", images: N, seed: S}``: N images of one prompt, seeds S .. S+N-1;
- ``{prompts: i2p}``: one image per prompt of the I2P benchmark, with the seed and guidance scale
  of its CSV (``seed`` is not used).

Optional keys: ``limit`` keeps the first N images (small tiers, tests); ``guidance_scale`` sets the
guidance of every image (for I2P, instead of the CSV's; the paper generated every SD image with 7.5).
Other keys of the spec (``table``, ``target``, ``column``) are not read here.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

I2P = "i2p"
I2P_COLUMNS = ("prompt", "sd_seed", "sd_guidance_scale")  # of i2p_benchmark.csv (AIML-TUDA/i2p, 4,703 rows)


class PromptSpecError(ValueError):
    """An evaluation spec that names no usable list of images; the message names the key at fault."""


@dataclass(frozen=True)
class PromptJob:
    """One image to generate: its prompt, the seed of its initial noise and its guidance scale
    (None: the config's ``sampling.guidance_scale``)."""

    prompt: str
    seed: int
    guidance_scale: float | None = None


def read_prompt_file(path: str | os.PathLike) -> list[str]:
    """The prompts of a file, one a line, in order (surrounding whitespace and blank lines dropped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"prompt file {path} does not exist (one prompt per line, UTF-8)")
    prompts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    prompts = [p for p in prompts if p]
    if not prompts:
        raise ValueError(f"prompt file {path} holds no prompt (one prompt per line, UTF-8)")
    return prompts


def read_i2p(path: str | os.PathLike) -> list[PromptJob]:
    """The I2P benchmark's rows as jobs: the CSV's prompt, ``sd_seed`` and ``sd_guidance_scale``
    (None where the guidance is empty or NaN). Every row is kept, so image i is row i."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"the I2P benchmark {path} does not exist; run `snakemake download_all "
                                "--configfile config/paper.yaml` where there is internet")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in I2P_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} lacks the I2P column(s) {', '.join(missing)}; is it i2p_benchmark.csv?")
        jobs = []
        for line, row in enumerate(reader, start=2):
            try:
                seed = _integer(row["sd_seed"])
            except ValueError:
                raise ValueError(f"{path}, line {line}: sd_seed {row['sd_seed']!r} is not an integer") from None
            jobs.append(PromptJob(row["prompt"] or "", seed, _guidance(row["sd_guidance_scale"])))
    if not jobs:
        raise ValueError(f"{path} holds no I2P prompt")
    return jobs


def evaluation_jobs(spec: dict, i2p_csv: str | os.PathLike | None = None) -> list[PromptJob]:
    """The images of an evaluation spec (see the module docstring), in a fixed order."""
    prompts, prompt = spec.get("prompts"), spec.get("prompt")
    if (prompts is None) == (prompt is None):
        raise PromptSpecError("an evaluation needs exactly one of `prompts` (a prompt file, or i2p) and "
                              f"`prompt` (one prompt); got {_keys(spec)}")
    guidance = spec.get("guidance_scale")
    if guidance is not None and (isinstance(guidance, bool) or not isinstance(guidance, (int, float))):
        raise PromptSpecError(f"`guidance_scale` must be a number, not {guidance!r}")
    if prompts == I2P:
        for key in ("images_per_prompt", "images"):
            _reject(spec, key, "an I2P evaluation makes one image per prompt with the CSV's seed")
        if i2p_csv is None:
            raise PromptSpecError("`prompts: i2p` needs the I2P benchmark CSV (stable_diffusion.i2p_csv)")
        jobs = read_i2p(i2p_csv)
    elif prompts is not None:
        _reject(spec, "images", "with a prompt file, `images_per_prompt` says how many images each prompt gets")
        n = _count(spec, "images_per_prompt")
        seed = _seed(spec)
        jobs = [PromptJob(p, seed + i * n + j) for i, p in enumerate(read_prompt_file(prompts)) for j in range(n)]
    else:
        _reject(spec, "images_per_prompt", "with one `prompt`, `images` says how many images it gets")
        if not isinstance(prompt, str) or not prompt.strip():
            raise PromptSpecError(f"`prompt` must be a non-empty text, not {prompt!r}")
        seed = _seed(spec)
        jobs = [PromptJob(prompt.strip(), seed + j) for j in range(_count(spec, "images"))]
    if guidance is not None:
        jobs = [PromptJob(j.prompt, j.seed, float(guidance)) for j in jobs]
    if "limit" in spec:
        jobs = jobs[:_count(spec, "limit")]
    return jobs


def replay_jobs(prompts: list[str], samples: int, seed: int) -> list[PromptJob]:
    """The replay (and FIM) images: image i has prompt ``prompts[i % len(prompts)]`` (the file in
    order, again from its start when ``samples`` exceeds it) and seed ``seed + i``."""
    if not prompts:
        raise ValueError("replay needs at least one prompt")
    if samples < 1:
        raise ValueError(f"replay samples must be at least 1, not {samples}")
    return [PromptJob(prompts[i % len(prompts)], seed + i) for i in range(samples)]


def _integer(text: str) -> int:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        value = float(text)  # "2734971755.0" as pandas may write it
        if not value.is_integer():
            raise
        return int(value)


def _guidance(text: str | None) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _keys(spec: dict) -> str:
    return "{" + ", ".join(map(str, spec)) + "}" if spec else "no keys"


def _reject(spec: dict, key: str, why: str) -> None:
    if key in spec:
        raise PromptSpecError(f"`{key}` does not apply here: {why}")


def _count(spec: dict, key: str) -> int:
    value = spec.get(key)
    if value is None:
        raise PromptSpecError(f"the evaluation needs `{key}` (a positive integer); got {_keys(spec)}")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PromptSpecError(f"`{key}` must be a positive integer, not {value!r}")
    return value


def _seed(spec: dict) -> int:
    value = spec.get("seed")
    if value is None:
        raise PromptSpecError(f"the evaluation needs `seed` (the seed of its first image); got {_keys(spec)}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise PromptSpecError(f"`seed` must be an integer, not {value!r}")
    return value
