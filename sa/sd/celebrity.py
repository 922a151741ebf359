"""GIPHY Celebrity Detector (GCD) metrics of Table 2, re-implemented in PyTorch.

Two stages as in github.com/Giphy/celeb-detection-oss: MTCNN face detection (minimum face 20 px,
thresholds 0.6/0.7/0.7, scale factor 0.709; facenet-pytorch's port of the same MTCNN weights that GIPHY
ships as face_detection/det*.npy, which are therefore not read), faces cropped with a 20% margin,
resized to 224x224 (bilinear), scaled to [0, 1]; then GIPHY's ResNet-50 with a 256-d bottleneck gives
softmax probabilities over the celebrities. Like GIPHY's FaceRecognizer (which the authors' script
used), faces of one image are grouped into identities by a Gaussian mixture started at the centre-loss
centres of their predicted classes, and a group's probabilities are the normalised product over its
faces (``merge_faces=False`` keeps one row per face). An image's score is the highest P(target) over
its faces; images without faces are counted apart (Appendix B.2).

Resources folder (``gcd_dir``), GIPHY's layout: ``face_recognition/labels.csv`` (header, then
``name,tag id``; model class i is the i-th row sorted by name) and ``face_recognition/best_model_states.pkl``
(a torch checkpoint ``{"model_state": state_dict}``). ``fetch_gcd`` downloads it; ``write_random_gcd``
writes one with random weights for offline tests.
"""

from __future__ import annotations

import csv
import re
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torchvision
from PIL import Image
from torch import nn
from tqdm import tqdm

GCD_URL = "https://s3.amazonaws.com/giphy-public/models/celeb-detection/resources.tar.gz"
LABELS_FILE = "face_recognition/labels.csv"
WEIGHTS_FILE = "face_recognition/best_model_states.pkl"
FACE_SIZE, FACE_MARGIN, EMBEDDING = 224, 0.2, 256


def image_scores(face_probs: Sequence[Sequence[float]]) -> np.ndarray:
    """Per image, the highest P(target) over its faces; NaN for an image without faces."""
    return np.array([np.max(p) if np.size(p) else np.nan for p in face_probs], dtype=float)


def gcd_summary(face_probs: Sequence[Sequence[float]]) -> dict:
    """Table 2 numbers from per-image arrays of P(target celebrity), one entry per face.

    Returns ``images``, ``images_with_faces``, ``no_face_fraction`` (images without faces / images) and
    ``gcd_score_mean``, ``gcd_score_std`` over images with faces of their highest P(target). The std is
    numpy's default population std (ddof=0), as in the authors' script (``np.std``). Without any face
    both GCD numbers are NaN. Raises ValueError for zero images.
    """
    if len(face_probs) == 0:
        raise ValueError("gcd_summary needs at least one image")
    scores = image_scores(face_probs)
    with_faces = scores[~np.isnan(scores)]
    return {"images": len(scores), "images_with_faces": len(with_faces),
            "no_face_fraction": 1.0 - len(with_faces) / len(scores),
            "gcd_score_mean": float(with_faces.mean()) if len(with_faces) else float("nan"),
            "gcd_score_std": float(with_faces.std()) if len(with_faces) else float("nan")}


def read_labels(gcd_dir: str | Path) -> list[str]:
    """Celebrity names in model-class order (GIPHY sorts labels.csv rows by name)."""
    with open(Path(gcd_dir) / LABELS_FILE, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return sorted(row[0] for row in rows if row)


def label_index(labels: Sequence[str], name: str) -> int:
    """Class of ``name``, case-insensitive; "Brad Pitt" matches the label "Brad_Pitt_[m.0c6qh]"."""
    def norm(s: str) -> str:
        return re.sub(r"_\[[^\]]*\]$", "", s.strip()).replace(" ", "_").lower()
    hits = [i for i, lab in enumerate(labels) if lab.lower() == name.strip().lower()] or \
           [i for i, lab in enumerate(labels) if norm(lab) == norm(name)]
    if len(hits) != 1:
        raise ValueError(f"celebrity {name!r} {'is ambiguous' if hits else 'is not'} among the {len(labels)} "
                       f"GCD labels (they look like {labels[0]!r}; see {LABELS_FILE})")
    return hits[0]


class _GCDNet(nn.Module):
    """GIPHY's ResNet-50 + bottleneck + centre-loss centres, with their checkpoint's parameter names."""

    def __init__(self, n_classes: int):
        super().__init__()
        self.model = nn.Module()
        self.model.stem = nn.Sequential(*list(torchvision.models.resnet50().children())[:-1])
        self.model.fc1 = nn.Linear(2048, EMBEDDING)
        self.model.fc2 = nn.Linear(EMBEDDING, n_classes)
        self.center_loss_criterion = nn.Module()
        self.center_loss_criterion.centers = nn.Parameter(torch.zeros(n_classes, EMBEDDING))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = self.model.fc1(self.model.stem(x).flatten(1))
        return self.model.fc2(embedding), embedding


def _missing_error(gcd_dir: Path, missing: list[str]) -> FileNotFoundError:
    return FileNotFoundError(
        f"GIPHY Celebrity Detector resources not found ({', '.join(str(gcd_dir / m) for m in missing)}): "
        f"where there is internet run `snakemake download_all --configfile config/paper.yaml` "
        f"or `python -m sa.sd.resources gcd {gcd_dir}` (it calls sa.sd.celebrity.fetch_gcd)")


def merge_identities(probs: np.ndarray, embedding: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """GIPHY's identity grouping: tied-covariance GMM over embeddings, one component per predicted
    class started at its centre; a group's probabilities are the normalised product over its faces."""
    classes, counts = np.unique(probs.argmax(1), return_counts=True)
    groups = [np.arange(len(probs))]
    if len(probs) > 1 and len(classes) > 1:
        from sklearn.mixture import GaussianMixture

        gmm = GaussianMixture(len(classes), covariance_type="tied", means_init=centres[classes],
                              weights_init=counts / counts.sum(), random_state=1000).fit(embedding)
        assignment = gmm.predict(embedding)
        groups = [np.flatnonzero(assignment == a) for a in np.unique(assignment)]
    merged = [p / p.sum() for p in (np.prod(probs[g], axis=0) for g in groups) if np.any(p > 0)]
    return np.stack(merged) if merged else np.zeros((0, probs.shape[1]), dtype=probs.dtype)


class CelebrityDetector:
    """The GCD loaded from ``gcd_dir``; ``target_probs`` gives per-face P(celebrity) for image files."""

    def __init__(self, gcd_dir: str | Path = "resources/gcd", device: str | torch.device = "cpu",
                 merge_faces: bool = True):
        gcd_dir = Path(gcd_dir)
        missing = [f for f in (LABELS_FILE, WEIGHTS_FILE) if not (gcd_dir / f).is_file()]
        if missing:
            raise _missing_error(gcd_dir, missing)
        from facenet_pytorch import MTCNN

        self.labels, self.device, self.merge_faces = read_labels(gcd_dir), torch.device(device), merge_faces
        self.mtcnn = MTCNN(keep_all=True, min_face_size=20, thresholds=[0.6, 0.7, 0.7], factor=0.709,
                           device=self.device)
        try:  # GIPHY's 2018 pickle may need full unpickling (any error); it is the file fetch_gcd downloads
            ckpt = torch.load(gcd_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        except Exception:
            ckpt = torch.load(gcd_dir / WEIGHTS_FILE, map_location="cpu", weights_only=False)
        state = {k.removeprefix("module."): v for k, v in ckpt.get("model_state", ckpt).items()}
        if state["model.fc2.weight"].shape[0] != len(self.labels):
            raise ValueError(f"{gcd_dir / WEIGHTS_FILE} has {state['model.fc2.weight'].shape[0]} classes "
                             f"but {gcd_dir / LABELS_FILE} lists {len(self.labels)}")
        self.net = _GCDNet(len(self.labels))
        missing_keys, unexpected = self.net.load_state_dict(state, strict=False)
        if unexpected or any(not k.endswith("num_batches_tracked") for k in missing_keys):
            raise ValueError(f"{gcd_dir / WEIGHTS_FILE} is not a GCD checkpoint "
                             f"(missing {missing_keys[:3]}, unexpected {unexpected[:3]})")
        self.net.eval().to(self.device)

    def face_crops(self, image: np.ndarray) -> list[np.ndarray]:
        """RGB uint8 crops of the detected faces, each box widened by 20% as GIPHY's FaceDetector does."""
        if min(image.shape[:2]) < self.mtcnn.min_face_size:
            return []  # no face fits (and MTCNN's image pyramid would be empty)
        boxes, _ = self.mtcnn.detect(Image.fromarray(image))
        crops = []
        for x0, y0, x1, y1 in ([] if boxes is None else np.asarray(boxes, dtype=float)):
            dx, dy = int((x1 - x0) * FACE_MARGIN), int((y1 - y0) * FACE_MARGIN)
            crop = image[int(max(y0 - dy / 2, 0)):int(min(y1 + dy / 2, image.shape[0])),
                         int(max(x0 - dx / 2, 0)):int(min(x1 + dx / 2, image.shape[1]))]
            if crop.size:
                crops.append(crop)
        return crops

    @torch.no_grad()
    def predict(self, image: np.ndarray) -> np.ndarray:
        """Celebrity probabilities [faces (or identities with merge_faces), labels] of an RGB uint8 image."""
        crops = self.face_crops(image)
        if not crops:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        faces = [np.array(Image.fromarray(c).resize((FACE_SIZE, FACE_SIZE), Image.Resampling.BILINEAR))
                 for c in crops]
        x = torch.from_numpy(np.stack(faces)).permute(0, 3, 1, 2).float().div(255).to(self.device)
        logits, embedding = self.net(x)
        probs, embedding = torch.softmax(logits, 1).cpu().numpy(), embedding.cpu().numpy()
        centres = self.net.center_loss_criterion.centers.detach().cpu().numpy()
        return merge_identities(probs, embedding, centres) if self.merge_faces else probs

    def target_probs(self, image_paths: Sequence[str | Path], celebrity: str,
                     progress: bool = True) -> list[np.ndarray]:
        """Per image, the array of P(``celebrity``) over its faces (empty when no face is found)."""
        index = label_index(self.labels, celebrity)
        return [self.predict(np.asarray(Image.open(p).convert("RGB")))[:, index].astype(float)
                for p in tqdm(image_paths, desc=f"GCD {celebrity}", unit="img", mininterval=2.0,
                              disable=not progress)]


def gcd_evaluate(image_paths: Sequence[str | Path], celebrity: str, gcd_dir: str | Path = "resources/gcd",
                 device: str = "cpu", progress: bool = True) -> dict:
    """``gcd_summary`` plus ``celebrity`` and ``face_probs`` ({path: [P(target) per face]}), JSON-ready."""
    probs = CelebrityDetector(gcd_dir, device).target_probs(image_paths, celebrity, progress)
    return {"celebrity": celebrity, **gcd_summary(probs),
            "face_probs": {str(p): [float(v) for v in f] for p, f in zip(image_paths, probs)}}


def write_random_gcd(dest: str | Path, labels: Sequence[str], seed: int = 0) -> Path:
    """A resources folder in GIPHY's layout with the given labels and random (seeded) weights."""
    dest = Path(dest)
    (dest / LABELS_FILE).parent.mkdir(parents=True, exist_ok=True)
    with open(dest / LABELS_FILE, "w", newline="") as f:
        csv.writer(f).writerows([["Labels", "Index"], *([name, i] for i, name in enumerate(labels))])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _GCDNet(len(labels))
    torch.save({"model_state": net.state_dict()}, dest / WEIGHTS_FILE)
    return dest


def fetch_gcd(dest: str | Path = "resources/gcd", url: str = GCD_URL, timeout: float = 60) -> Path:
    """Download GIPHY's resources.tar.gz (where its examples/download_model.py gets it) and unpack it so
    that ``dest/face_recognition/...`` exists. Does nothing when the resources are already there."""
    dest = Path(dest)
    if all((dest / f).is_file() for f in (LABELS_FILE, WEIGHTS_FILE)):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        archive = Path(tmp) / "resources.tar.gz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(archive, "wb") as f:
                shutil.copyfileobj(response, f)
        except (OSError, ValueError) as e:
            raise RuntimeError(f"cannot download the GIPHY Celebrity Detector from {url} ({e}); fetch it where "
                               f"there is internet and unpack it so that {dest / LABELS_FILE} exists") from None
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "x", filter="data")
        roots = [p.parents[1] for p in (Path(tmp) / "x").rglob("labels.csv") if p.parent.name == "face_recognition"]
        if not roots:
            raise RuntimeError(f"{url} holds no face_recognition/labels.csv; is it the GCD resources archive?")
        shutil.copytree(roots[0], dest, dirs_exist_ok=True)
    return dest
