"""Checks of a configuration that a JSON schema cannot express (they need the dataset registry)."""

from __future__ import annotations

from pathlib import Path

from sa.data import REGISTRY
from sa.sd.resources import is_local_model

RESERVED_RUN_NAMES = {"original", "nine_classes"}


def is_folder_name(name: str) -> bool:
    """Letters, digits and _ only: the name becomes a folder under results/."""
    return name.replace("_", "").isalnum()


def config_problems(config: dict) -> list[str]:
    """Every problem found, each naming the key at fault; an empty list means the config is usable."""
    problems = []
    for exp_name, exp in config.get("experiments", {}).items():
        where = f"experiments.{exp_name}"
        info = REGISTRY.get(exp.get("dataset"))
        if info is None:
            problems.append(f"{where}.dataset: unknown dataset {exp.get('dataset')!r}; known: {', '.join(sorted(REGISTRY))}")
            continue
        for c in exp.get("forget_classes", []):
            if not 0 <= c < info.num_classes:
                problems.append(f"{where}.forget_classes: class {c} does not exist in {info.name} "
                                f"(classes 0..{info.num_classes - 1})")
        if len(set(exp.get("forget_classes", []))) >= info.num_classes:
            problems.append(f"{where}.forget_classes: forgetting every class of {info.name} leaves nothing to remember")
        method = exp.get("fim", {}).get("method", "auto")
        allowed = {"vae": {"auto", "outer", "vmap"}, "ddpm": {"exact", "sampled"}}.get(exp.get("kind"), set())
        if method not in allowed:
            problems.append(f"{where}.fim.method: {method!r} does not apply to a {exp.get('kind')}; "
                            f"use one of {', '.join(sorted(allowed))}")
        for run in exp.get("variants", {}):
            if run in RESERVED_RUN_NAMES:
                problems.append(f"{where}.variants.{run}: the name {run!r} is reserved for a baseline")
            if not is_folder_name(run):
                problems.append(f"{where}.variants.{run}: use letters, digits and _ only (it names a folder)")
        if not is_folder_name(exp_name):
            problems.append(f"{where}: use letters, digits and _ only in an experiment name (it names a folder)")
    if not config.get("experiments") and not config.get("stable_diffusion"):
        problems.append("experiments: nothing to run; give `experiments` (Table 1) or `stable_diffusion` (Tables 2-4)")
    if config.get("stable_diffusion"):
        problems += sd_config_problems(config["stable_diffusion"])
    return problems


SD_METHODS = {"sld", "esd", "sa"}


def sd_config_problems(sd: dict) -> list[str]:
    """Problems of the ``stable_diffusion`` section, each naming its key."""
    problems = []
    models = sd.get("models", {})
    if sd.get("base") not in models:
        problems.append(f"stable_diffusion.base: {sd.get('base')!r} is not one of the models ({', '.join(models)})")
    for name, source in models.items():
        if name in SD_METHODS or not is_folder_name(name):
            problems.append(f"stable_diffusion.models.{name}: use letters, digits and _ only, and not sld, esd or sa")
        elif is_local_model(source) and not (Path(source).expanduser() / "model_index.json").is_file():
            problems.append(f"stable_diffusion.models.{name}: {source} is neither a hub id (owner/name) nor a "
                            "diffusers folder (no model_index.json in it)")
    for exp_name, exp in sd.get("experiments", {}).items():
        where = f"stable_diffusion.experiments.{exp_name}"
        if not is_folder_name(exp_name):
            problems.append(f"{where}: use letters, digits and _ only in an experiment name (it names a folder)")
        for run in exp.get("runs", []):
            if run not in models and run not in SD_METHODS:
                problems.append(f"{where}.runs: {run!r} is neither a model ({', '.join(models)}) nor sld, esd or sa")
        for ev_name, ev in exp.get("evaluations", {}).items():
            problems += _evaluation_problems(f"{where}.evaluations.{ev_name}", ev)
    return problems


def _evaluation_problems(where: str, ev: dict) -> list[str]:
    problems = []
    if ev.get("table") == "table2" and not ev.get("target"):
        problems.append(f"{where}.target: table2 scores a celebrity; name it (e.g. Brad Pitt)")
    if ("prompts" in ev) == ("prompt" in ev):
        problems.append(f"{where}: give either `prompts` (a file, or i2p) or `prompt` (one prompt), not both or neither")
    elif "prompt" in ev and "images" not in ev:
        problems.append(f"{where}.images: how many images of {ev['prompt']!r}?")
    elif ev.get("prompts") not in (None, "i2p") and "images_per_prompt" not in ev:
        problems.append(f"{where}.images_per_prompt: how many images of each prompt of {ev['prompts']}?")
    return problems
