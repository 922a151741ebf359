"""External artifacts of the paper tier: where they live under resources/, and the download stage.

Compute jobs never download. They read torchvision datasets from ``datasets.root`` and network
weights (ResNet34, torch-fidelity's Inception-v3) from torch's cache under ``TORCH_HOME =
resources/torch``, which the workflow sets for every job. ``snakemake download_all`` fills both on
a machine with internet (a cluster's login node) through this module's command line::

    python -m sa.resources_paths dataset mnist resources/datasets
    python -m sa.resources_paths weights resnet34 resources/torch

Offline, a download fails with one line naming what it needed.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

TORCH_HOME = "resources/torch"


@dataclass(frozen=True)
class TorchvisionDataset:
    cls: str           # the torchvision.datasets class
    folder: str        # what it creates under the root
    splits: tuple      # the constructor arguments of each split that sa.data reads


# The registry's datasets that need a download (sa.data.REGISTRY[...].needs_download), as sa.data loads them.
DATASETS = {
    "mnist": TorchvisionDataset("MNIST", "MNIST", ({"train": True}, {"train": False})),
    "cifar10": TorchvisionDataset("CIFAR10", "cifar-10-batches-py", ({"train": True}, {"train": False})),
    "stl10": TorchvisionDataset("STL10", "stl10_binary", ({"split": "train"}, {"split": "test"})),
}


@dataclass(frozen=True)
class Weights:
    url: str
    what: str
    check_hash: bool  # the file name ends in the prefix of its SHA-256 (torch hub's convention)

    @property
    def file(self) -> str:
        return self.url.rsplit("/", 1)[1]


WEIGHTS = {
    # torchvision.models.ResNet34_Weights.IMAGENET1K_V1.url
    "resnet34": Weights("https://download.pytorch.org/models/resnet34-b627a593.pth",
                        "ResNet34 ImageNet weights (torchvision, the CIFAR10/STL10 classifier)", check_hash=True),
    # torch_fidelity.feature_extractor_inceptionv3.URL_INCEPTION_V3
    "inception": Weights("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                         "weights-inception-2015-12-05-6726825d.pth",
                         "torch-fidelity's Inception-v3 weights (FID features)", check_hash=False),  # as torch-fidelity
}


class DownloadFailed(RuntimeError):
    """A download that could not happen; the message is one line."""


def dataset_folder(name: str, root: str | os.PathLike) -> str:
    return f"{root}/{DATASETS[name].folder}"


def weights_dir(torch_home: str | os.PathLike = TORCH_HOME) -> str:
    """Where torch's hub cache (``load_state_dict_from_url``) keeps weight files under ``torch_home``."""
    return f"{torch_home}/hub/checkpoints"


def weights_path(name: str, torch_home: str | os.PathLike = TORCH_HOME) -> str:
    return f"{weights_dir(torch_home)}/{WEIGHTS[name].file}"


def artifacts_needed(config: dict) -> tuple[list[str], list[str]]:
    """The datasets and the weights that the jobs of a (validated) config read."""
    from sa.data import dataset_info
    from sa.models import classifier_arch

    experiments = config["experiments"].values()
    used = sorted({e["dataset"] for e in experiments})
    datasets = [d for d in used if dataset_info(d).needs_download]
    weights = []
    if any(classifier_arch(config["classifier"], dataset_info(d)) == "resnet34" for d in used):
        weights.append("resnet34")
    if any(e["evaluate"]["image_metrics"] and e["evaluate"]["features"] == "inception" for e in experiments):
        weights.append("inception")
    return datasets, weights


def _one_line(err: BaseException, limit: int = 400) -> str:
    text = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
    text = text if len(text) <= limit else text[:limit] + "..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def fetch_dataset(name: str, root: str | os.PathLike) -> Path:
    """Download a torchvision dataset's splits into ``root``; returns the folder it fills."""
    import torchvision

    spec = DATASETS[name]
    cls = getattr(torchvision.datasets, spec.cls)
    chatter = io.StringIO()  # torchvision prints every mirror it tries; keep the output to one line
    try:
        with contextlib.redirect_stdout(chatter):
            for split in spec.splits:
                cls(root=str(root), download=True, **split)
    except Exception as err:
        raise DownloadFailed(f"could not download dataset {name} (torchvision.datasets.{spec.cls}) into "
                             f"{dataset_folder(name, root)}: {_one_line(err)}; the download stage needs "
                             "internet (run it on a login node)") from None
    archive = Path(root) / getattr(cls, "filename", "")
    if archive.is_file():  # CIFAR10 and STL10 leave their archive beside the extracted folder
        archive.unlink()
    return Path(dataset_folder(name, root))


def fetch_weights(name: str, torch_home: str | os.PathLike = TORCH_HOME) -> Path:
    """Download network weights into torch's hub cache under ``torch_home``, where the code that loads
    them (torchvision, torch-fidelity) finds them without downloading."""
    from torch.hub import HASH_REGEX, download_url_to_file

    weights, path = WEIGHTS[name], Path(weights_path(name, torch_home))
    path.parent.mkdir(parents=True, exist_ok=True)
    hash_prefix = HASH_REGEX.search(weights.file).group(1) if weights.check_hash else None
    try:
        download_url_to_file(weights.url, str(path), hash_prefix=hash_prefix, progress=True)
    except Exception as err:
        raise DownloadFailed(f"could not download {weights.what} from {weights.url} to {path}: "
                             f"{_one_line(err)}; the download stage needs internet (run it on a login node)") from None
    return path


def main(argv: list[str]) -> int:
    usage = "usage: python -m sa.resources_paths dataset {%s} ROOT | weights {%s} TORCH_HOME" % (
        ",".join(DATASETS), ",".join(WEIGHTS))
    known = {"dataset": DATASETS, "weights": WEIGHTS}
    if len(argv) != 3 or argv[0] not in known or argv[1] not in known[argv[0]]:
        print(usage, file=sys.stderr)
        return 2
    kind, name, where = argv
    return run_download(lambda: fetch_dataset(name, where) if kind == "dataset" else fetch_weights(name, where), name)


def run_download(fetch: Callable[[], Path], what: str) -> int:
    """A command line's exit status: 0 and where ``fetch()`` put ``what``, or 1 and its one-line failure."""
    try:
        path = fetch()
    except DownloadFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"downloaded {what} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
