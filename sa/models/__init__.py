"""Model construction from plain config values, and saving/loading with the spec beside the weights."""

from __future__ import annotations

import os

from torch import nn

from sa.data import DatasetInfo
from sa.io import load_torch, save_torch
from sa.models.classifier import ResNet34Classifier, TwoLayerCNN
from sa.models.cvae import ConditionalVAE
from sa.models.unet import ConditionalUNet


def build_generator(kind: str, spec: dict, info: DatasetInfo) -> nn.Module:
    """A ``vae`` or a ``ddpm``; both offer ``elbo(x, c)``, ``sample(c)`` and ``noise_shape(n)``."""
    from sa.diffusion import Diffusion  # sa.diffusion imports sa.models.unet

    image_shape = (info.channels, info.size, info.size)
    if kind == "vae":
        return ConditionalVAE(image_shape, info.num_classes, hidden=tuple(spec["hidden"]), z_dim=spec["z_dim"])
    if kind == "ddpm":
        unet = ConditionalUNet(image_shape, info.num_classes, base_channels=spec["base_channels"],
                               channel_mult=tuple(spec["channel_mult"]), num_res_blocks=spec["num_res_blocks"],
                               attention_resolutions=tuple(spec["attention_resolutions"]), dropout=spec["dropout"])
        return Diffusion(unet, timesteps=spec["timesteps"], sampler=spec["sampler"],
                         sampling_steps=spec["sampling_steps"], guidance_scale=spec["guidance_scale"])
    raise ValueError(f"unknown generator kind {kind!r}")


def classifier_arch(spec: dict, info: DatasetInfo) -> str:
    """``auto``: the paper's choice, the two-layer CNN for digits and ResNet34 for colour images."""
    if spec["arch"] != "auto":
        return spec["arch"]
    return "resnet34" if info.channels == 3 else "cnn"


def build_classifier(spec: dict, info: DatasetInfo, pretrained: bool = True) -> nn.Module:
    if classifier_arch(spec, info) == "resnet34":
        return ResNet34Classifier(info.num_classes, pretrained=pretrained)
    return TwoLayerCNN(info.channels, info.size, info.num_classes, hidden=spec["hidden"])


def save_model(model: nn.Module, build_args: dict, path: str | os.PathLike, **extra) -> None:
    """Weights and the arguments that rebuild the module, so a file is self-describing."""
    save_torch({"build_args": build_args, "state_dict": model.state_dict(), **extra}, path)


def load_model(path: str | os.PathLike) -> tuple[nn.Module, dict]:
    from sa.data import dataset_info

    blob = load_torch(path)
    args = blob["build_args"]
    info = dataset_info(args["dataset"])
    if args["role"] == "classifier":
        model = build_classifier(args["spec"], info, pretrained=False)  # the weights come from the file
    else:
        model = build_generator(args["kind"], args["spec"], info)
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, blob
