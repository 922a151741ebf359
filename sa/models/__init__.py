"""Model construction from plain config values, and saving/loading with the spec beside the weights."""

from __future__ import annotations

import os

from torch import nn

from sa.data import DatasetInfo
from sa.io import load_torch, save_torch
from sa.models.classifier import SmallCNN
from sa.models.cvae import ConditionalVAE


def build_generator(kind: str, spec: dict, info: DatasetInfo) -> nn.Module:
    image_shape = (info.channels, info.size, info.size)
    if kind == "vae":
        return ConditionalVAE(image_shape, info.num_classes, hidden=tuple(spec["hidden"]), z_dim=spec["z_dim"])
    raise ValueError(f"unknown generator kind {kind!r}")


def build_classifier(spec: dict, info: DatasetInfo) -> nn.Module:
    return SmallCNN(info.channels, info.size, info.num_classes, width=spec.get("width", 32),
                    hidden=spec.get("hidden", 128))


def save_model(model: nn.Module, build_args: dict, path: str | os.PathLike, **extra) -> None:
    """Weights and the arguments that rebuild the module, so a file is self-describing."""
    save_torch({"build_args": build_args, "state_dict": model.state_dict(), **extra}, path)


def load_model(path: str | os.PathLike) -> tuple[nn.Module, dict]:
    from sa.data import dataset_info

    blob = load_torch(path)
    args = blob["build_args"]
    info = dataset_info(args["dataset"])
    if args["role"] == "classifier":
        model = build_classifier(args["spec"], info)
    else:
        model = build_generator(args["kind"], args["spec"], info)
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, blob
