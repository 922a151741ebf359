"""Checks of a configuration that a JSON schema cannot express (they need the dataset registry)."""

from __future__ import annotations

from sa.data import REGISTRY

RESERVED_RUN_NAMES = {"original", "nine_classes"}


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
            if not run.replace("_", "").isalnum():
                problems.append(f"{where}.variants.{run}: use letters, digits and _ only (it names a folder)")
        if not exp_name.replace("_", "").isalnum():
            problems.append(f"{where}: use letters, digits and _ only in an experiment name (it names a folder)")
    return problems
