"""FID and precision/recall against plain reference computations."""
import numpy as np
import torch

from sa.metrics import frechet_distance, precision_recall


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return vectors @ np.diag(np.sqrt(np.clip(values, 0, None))) @ vectors.T


def reference_fid(a, b):
    """|mu_a - mu_b|² + Tr(S_a) + Tr(S_b) - 2 Tr((S_a^½ S_b S_a^½)^½), by symmetric eigendecompositions."""
    a, b = a.double().numpy(), b.double().numpy()
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _psd_sqrt(cov_a)
    cross = _psd_sqrt(root_a @ cov_b @ root_a)
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(cross))


def reference_precision_recall(real, fake, k):
    def radius(points, i):
        distances = sorted(float((points[i] - points[j]).norm()) for j in range(len(points)))
        return distances[k]  # distances[0] is the point itself

    def inside(x, centres):
        radii = [radius(centres, j) for j in range(len(centres))]
        return any(float((x - centres[j]).norm()) <= radii[j] for j in range(len(centres)))

    precision = sum(inside(f, real) for f in fake) / len(fake)
    recall = sum(inside(r, fake) for r in real) / len(real)
    return precision, recall


def test_fid_matches_the_reference():
    a, b = torch.randn(400, 6), 0.5 * torch.randn(300, 6) @ torch.randn(6, 6) + 1.0
    assert np.isclose(frechet_distance(a, b), reference_fid(a, b), rtol=1e-6)


def test_fid_is_zero_for_identical_sets_and_the_squared_shift_for_a_translation():
    a = torch.randn(500, 4)
    assert abs(frechet_distance(a, a)) < 1e-6
    shift = torch.tensor([1.0, -2.0, 0.0, 0.5])
    assert np.isclose(frechet_distance(a, a + shift), float(shift.pow(2).sum()), rtol=1e-6)


def test_precision_recall_match_the_reference():
    torch.manual_seed(0)
    real, fake = torch.randn(60, 3), torch.randn(50, 3) * 0.5 + 0.7
    assert np.allclose(precision_recall(real, fake, k=3), reference_precision_recall(real, fake, k=3))


def test_precision_recall_of_collapsed_samples():
    real = torch.randn(200, 2)
    collapsed = torch.zeros(100, 2) + 0.01 * torch.randn(100, 2)  # all at the mode: precise, not diverse
    precision, recall = precision_recall(real, collapsed)
    assert precision > 0.9 and recall < 0.2
