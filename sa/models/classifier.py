"""The small two-layer CNN used to score samples (the paper's MNIST classifier).

Padding keeps it valid for any image size from 8x8 up; ``features`` exposes the penultimate
layer, which the offline tier uses in place of Inception features.
"""

from __future__ import annotations

import torch
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self, in_channels: int, image_size: int, num_classes: int, width: int = 32,
                 hidden: int = 128, dropout: float = 0.25):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(dropout), nn.Flatten(),
            nn.Linear(2 * width * (image_size // 2) ** 2, hidden), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(2 * dropout), nn.Linear(hidden, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
