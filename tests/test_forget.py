import copy

import pytest
import torch

from sa.forget import ewc_penalty, replay_from_model, sa_objective, selective_amnesia, uniform_surrogate
from sa.models.cvae import ConditionalVAE


@pytest.fixture
def vae():
    return ConditionalVAE((1, 8, 8), 10, hidden=(32, 16), z_dim=4)


def _random_fisher(model):
    return {n: torch.rand_like(p) for n, p in model.named_parameters()}


def test_ewc_penalty_is_the_fisher_weighted_squared_distance(vae):
    fisher = _random_fisher(vae)
    anchor = {n: p.detach() + 0.1 * torch.randn_like(p) for n, p in vae.named_parameters()}
    expected = sum((fisher[n] * (p.detach() - anchor[n]) ** 2).sum() for n, p in vae.named_parameters())
    assert torch.allclose(ewc_penalty(vae, fisher, anchor), expected)
    at_anchor = {n: p.detach().clone() for n, p in vae.named_parameters()}
    assert ewc_penalty(vae, fisher, at_anchor).item() == 0.0


def test_sa_objective_reads_like_eq4(vae):
    fisher = _random_fisher(vae)
    anchor = {n: p.detach() + 0.05 * torch.randn_like(p) for n, p in vae.named_parameters()}
    x_s, c_f = torch.rand(5, 1, 8, 8), torch.zeros(5, dtype=torch.long)
    x_r, c_r = torch.rand(7, 1, 8, 8), torch.randint(1, 10, (7,))
    lam = 37.0

    torch.manual_seed(3)
    objective, terms = sa_objective(vae, (x_s, c_f), (x_r, c_r), fisher, anchor, lam)
    torch.manual_seed(3)  # the same reparameterisation draws, in the same order
    surrogate = vae.elbo(x_s, c_f).mean()
    ewc = ewc_penalty(vae, fisher, anchor)
    replay = vae.elbo(x_r, c_r).mean()
    assert torch.allclose(objective, surrogate - lam / 2 * ewc + replay)
    assert terms["surrogate_elbo"] == pytest.approx(surrogate.item())
    assert terms["replay_elbo"] == pytest.approx(replay.item())
    assert terms["ewc"] == pytest.approx(ewc.item())


def test_no_replay_drops_the_replay_term_only(vae):
    fisher = _random_fisher(vae)
    anchor = {n: p.detach().clone() for n, p in vae.named_parameters()}
    x_s, c_f = torch.rand(5, 1, 8, 8), torch.zeros(5, dtype=torch.long)
    torch.manual_seed(1)
    objective, terms = sa_objective(vae, (x_s, c_f), None, fisher, anchor, 10.0)
    torch.manual_seed(1)
    assert torch.allclose(objective, vae.elbo(x_s, c_f).mean())
    assert terms["replay_elbo"] == 0.0


def test_ewc_gradient_is_lambda_f_delta(vae):
    fisher = _random_fisher(vae)
    anchor = {n: p.detach() + 0.1 for n, p in vae.named_parameters()}
    lam = 5.0
    (lam / 2 * ewc_penalty(vae, fisher, anchor)).backward()
    for n, p in vae.named_parameters():
        assert torch.allclose(p.grad, lam * fisher[n] * (p.detach() - anchor[n]), atol=1e-6)


def test_uniform_surrogate_draws_noise_for_the_forgotten_classes():
    x, c = uniform_surrogate((1, 8, 8), [0, 3])(1000)
    assert x.shape == (1000, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    assert set(c.tolist()) == {0, 3}
    assert abs(x.mean().item() - 0.5) < 0.01


def test_replay_never_draws_a_forgotten_class(vae):
    x, c = replay_from_model(vae, [1, 2, 3])(200)
    assert set(c.tolist()) <= {1, 2, 3} and x.shape == (200, 1, 8, 8)


def test_large_lambda_keeps_weights_at_the_anchor(vae):
    fisher = {n: torch.ones_like(p) for n, p in vae.named_parameters()}
    original = copy.deepcopy(vae)
    frozen = copy.deepcopy(vae).requires_grad_(False)
    surrogate = uniform_surrogate((1, 8, 8), [0])
    replay = replay_from_model(frozen, list(range(1, 10)))

    def drift(lam):
        model = copy.deepcopy(original)
        torch.manual_seed(0)
        selective_amnesia(model, fisher, surrogate, replay, lam, steps=30, lr=1e-2, batch_size=16)
        return sum((p - q).pow(2).sum() for p, q in zip(model.parameters(), original.parameters())).item()

    assert drift(1e4) < 0.1 * drift(0.0)


def test_ema_decay_ends_with_the_moving_average_of_the_steps(vae, monkeypatch):
    fisher = _random_fisher(vae)
    surrogate = uniform_surrogate((1, 8, 8), [0])
    replay = replay_from_model(copy.deepcopy(vae).requires_grad_(False), list(range(1, 10)))
    decay = 0.8

    def trajectory(ema_decay):
        """The final weights, and the weights after every optimiser step."""
        model = copy.deepcopy(vae)
        snapshots = []
        adam_step = torch.optim.Adam.step

        def recording_step(self, *args, **kwargs):
            result = adam_step(self, *args, **kwargs)
            snapshots.append({n: p.detach().clone() for n, p in model.named_parameters()})
            return result

        monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
        torch.manual_seed(0)
        selective_amnesia(model, fisher, surrogate, replay, 1.0, steps=5, lr=1e-2, batch_size=8, ema_decay=ema_decay)
        monkeypatch.undo()
        return dict(model.named_parameters()), snapshots

    with_ema, snapshots = trajectory(decay)
    average = {n: p.detach().clone() for n, p in vae.named_parameters()}  # the EMA starts at θ*
    for snapshot in snapshots:
        for n in average:
            average[n] = decay * average[n] + (1 - decay) * snapshot[n]
    for n, p in with_ema.items():
        assert torch.allclose(p, average[n], atol=1e-6), n
    last, same_steps = trajectory(None)
    assert all(torch.equal(last[n], same_steps[-1][n]) for n in last), "without EMA: the last step's weights"
    assert all(torch.equal(a[n], b[n]) for a, b in zip(snapshots, same_steps) for n in a), "EMA does not change the steps"
    assert not torch.allclose(last["encoder.0.weight"], average["encoder.0.weight"])
