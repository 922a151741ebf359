"""Sample grids like the paper's Fig. 2: one row per class, the original beside the SA model."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from sa.io import atomic_path  # noqa: E402


def class_grid(images: torch.Tensor, labels: torch.Tensor, classes: list[int], per_class: int) -> np.ndarray:
    """A ``[rows*H, per_class*W, C]`` uint8 mosaic, one row per class, blank where a class has too few samples."""
    _, c, h, w = images.shape
    grid = np.full((len(classes) * h, per_class * w, c), 255, dtype=np.uint8)
    for row, cls in enumerate(classes):
        picks = images[labels == cls][:per_class]
        for col, img in enumerate(picks):
            grid[row * h:(row + 1) * h, col * w:(col + 1) * w] = img.permute(1, 2, 0).numpy()
    return grid


def save_comparison(panels: dict[str, np.ndarray], row_names: list[str], path: str | os.PathLike,
                    title: str = "") -> None:
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.4), squeeze=False)
    for ax, (name, grid) in zip(axes[0], panels.items()):
        ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
        ax.set_title(name)
        rows = len(row_names)
        ax.set_yticks([(i + 0.5) * grid.shape[0] / rows for i in range(rows)], row_names)
        ax.set_xticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
