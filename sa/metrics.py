"""The metrics of Table 1: classifier entropy H, P(c_f), accuracy on remembered classes, and FID,
precision and recall of the remembered classes."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


@torch.no_grad()
def _in_batches(classifier: nn.Module, forward, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """``forward(batch)`` over ``images`` in eval mode on the classifier's device, gathered on the CPU."""
    classifier.eval()
    device = next(classifier.parameters()).device
    return torch.cat([forward(images[i:i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)])


def classifier_probabilities(classifier: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    return _in_batches(classifier, lambda x: torch.softmax(classifier(x), dim=1), images, batch_size)


def mean_entropy(probs: torch.Tensor) -> float:
    """Mean over samples of H(P(y|x)) in nats; the maximum for K classes is log K (2.30 for 10)."""
    return -(probs * probs.clamp_min(1e-12).log()).sum(1).mean().item()


def forgetting_scores(probs: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """H and P(y=c_f|x) on samples generated for the forgotten class(es); ``labels`` are the c_f conditioned on."""
    return {"entropy": mean_entropy(probs), "p_forget": probs[torch.arange(len(labels)), labels].mean().item(),
            "max_entropy": math.log(probs.shape[1])}


def accuracy_per_class(probs: torch.Tensor, labels: torch.Tensor) -> dict[int, float]:
    hits = probs.argmax(1) == labels
    return {int(c): hits[labels == c].float().mean().item() for c in labels.unique()}


# --- image quality of the remembered classes: FID and precision/recall (Kynkäänniemi et al. 2019) ---

def classifier_features(classifier: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Penultimate-layer features: the offline stand-in for Inception features."""
    return _in_batches(classifier, classifier.features, images, batch_size)


def inception_features(images: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """2048-d Inception-v3 pool features (torch-fidelity's FID network; its weights download once)."""
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        extractor = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    except Exception as err:  # ImportError, or the weights download failing offline
        raise RuntimeError(f"Inception features need torch-fidelity and its weights "
                           f"(pt_inception-2015-12-05, downloaded on first use): {type(err).__name__}; "
                           f"use evaluate.features: classifier offline") from None
    extractor.eval()
    as_uint8 = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    if as_uint8.shape[1] == 1:
        as_uint8 = as_uint8.repeat(1, 3, 1, 1)
    with torch.no_grad():
        return torch.cat([extractor(as_uint8[i:i + batch_size])[0] for i in range(0, len(images), batch_size)])


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID between Gaussians fitted to two feature sets: |mu_r - mu_f|² + Tr(S_r + S_f - 2 (S_r S_f)^½)."""
    from scipy import linalg

    real, fake = real.double().numpy(), fake.double().numpy()
    mu_r, mu_f = real.mean(0), fake.mean(0)
    cov_r, cov_f = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    covmean = linalg.sqrtm(cov_r @ cov_f).real
    return float(((mu_r - mu_f) ** 2).sum() + np.trace(cov_r + cov_f - 2 * covmean))


def _kth_neighbour_radii(features: torch.Tensor, k: int) -> torch.Tensor:
    distances = torch.cdist(features, features)
    return distances.kthvalue(k + 1, dim=1).values  # +1: each point is its own nearest neighbour


def _fraction_inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 1000) -> float:
    """Share of ``points`` inside at least one ball ``(centre, radius)``."""
    inside = [(torch.cdist(points[i:i + chunk], centres) <= radii[None]).any(1) for i in range(0, len(points), chunk)]
    return torch.cat(inside).float().mean().item()


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision (fakes inside the real manifold) and recall (reals inside the fake manifold),
    each manifold the union of balls reaching every point's k-th nearest neighbour."""
    real, fake = real.double(), fake.double()
    precision = _fraction_inside(fake, real, _kth_neighbour_radii(real, k))
    recall = _fraction_inside(real, fake, _kth_neighbour_radii(fake, k))
    return precision, recall
