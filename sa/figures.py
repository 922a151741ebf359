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


def prompt_grid(rows: dict[str, list], prompts: list[str], path: str | os.PathLike, title: str = "",
                blur: bool = False) -> None:
    """Stable Diffusion samples like the paper's Figs. 3-5: one row per model, one column per prompt.

    ``rows`` maps a row label to PIL images (one per prompt). ``blur`` hides the content (nudity
    grids are blurred unless the config asks otherwise).
    """
    from PIL import ImageFilter

    n_rows, n_cols = len(rows), len(prompts)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.2 * n_cols, 2.2 * n_rows + 0.4), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(images):
                image = images[c].filter(ImageFilter.GaussianBlur(images[c].width / 16)) if blur else images[c]
                ax.imshow(np.asarray(image))
            if r == 0:
                ax.set_title(prompts[c] if len(prompts[c]) <= 40 else prompts[c][:37] + "...", fontsize=7)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title + (" (blurred)" if blur else ""))
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
