"""Classifier-based metrics of Table 1: entropy H, P(c_f), and accuracy on remembered classes."""

from __future__ import annotations

import math

import torch
from torch import nn


@torch.no_grad()
def classifier_probabilities(classifier: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    classifier.eval()
    device = next(classifier.parameters()).device
    chunks = [torch.softmax(classifier(images[i:i + batch_size].to(device)), dim=1).cpu()
              for i in range(0, len(images), batch_size)]
    return torch.cat(chunks)


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
