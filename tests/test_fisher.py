import pytest
import torch
from torch import nn

from sa.fisher import diagonal_fisher, draw_model_samples, negative_elbo
from sa.models.cvae import ConditionalVAE
from tests.reference import fisher_by_loop, relative_error


@pytest.fixture(scope="module")
def paper_vae_and_samples():
    torch.manual_seed(0)
    model = ConditionalVAE((1, 28, 28), 10, hidden=(512, 256), z_dim=8)
    samples = draw_model_samples(model, 300, 10, torch.Generator().manual_seed(1))
    return model, samples, fisher_by_loop(model, negative_elbo, samples)


@pytest.mark.parametrize("method", ["outer", "vmap", "auto"])
def test_fast_fisher_matches_the_per_sample_loop(paper_vae_and_samples, method):
    model, samples, reference = paper_vae_and_samples
    fast = diagonal_fisher(model, negative_elbo, samples, chunk_size=64, method=method, progress=False)
    assert fast.keys() == reference.keys()
    assert relative_error(fast, reference) <= 1e-5
    for name in reference:  # every tensor, not only the total, must agree
        assert torch.allclose(fast[name], reference[name], rtol=1e-4, atol=1e-10 * reference[name].max())


def test_fisher_does_not_depend_on_chunking(paper_vae_and_samples):
    model, samples, _ = paper_vae_and_samples
    a = diagonal_fisher(model, negative_elbo, samples, chunk_size=7, method="outer", progress=False)
    b = diagonal_fisher(model, negative_elbo, samples, chunk_size=300, method="outer", progress=False)
    assert relative_error(a, b) < 1e-6


def test_outer_method_refuses_models_it_cannot_handle():
    class Conv(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            return self.conv(x).flatten(1).sum(1)

    model = Conv()
    with pytest.raises(ValueError, match="nn.Linear"):
        diagonal_fisher(model, lambda m, x: m(x), (torch.randn(4, 1, 5, 5),), method="outer", progress=False)
    # the generic estimator handles it, and matches the loop
    x = (torch.randn(6, 1, 5, 5),)
    fast = diagonal_fisher(model, lambda m, x: m(x), x, method="auto", progress=False)
    assert relative_error(fast, fisher_by_loop(model, lambda m, x: m(x), x)) < 1e-5


def test_outer_method_refuses_a_layer_used_twice():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(self.lin(x)).sum(1)

    with pytest.raises(ValueError, match="twice"):
        diagonal_fisher(Twice(), lambda m, x: m(x), (torch.randn(4, 3),), method="outer", progress=False)


def test_fisher_is_deterministic_given_samples(paper_vae_and_samples):
    model, samples, _ = paper_vae_and_samples
    a = diagonal_fisher(model, negative_elbo, samples, method="outer", progress=False)
    b = diagonal_fisher(model, negative_elbo, samples, method="outer", progress=False)
    assert all(torch.equal(a[k], b[k]) for k in a)
