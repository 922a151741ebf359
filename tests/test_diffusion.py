import math

import pytest
import torch

from sa.diffusion import EMA, Diffusion, fisher_exact, fisher_sampled
from sa.fisher import diagonal_fisher, negative_elbo
from sa.models.unet import ConditionalUNet

NUM_CLASSES = 4


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_diffusion(timesteps: int = 20, **kwargs) -> Diffusion:
    torch.manual_seed(0)
    unet = ConditionalUNet((3, 8, 8), NUM_CLASSES, base_channels=16, channel_mult=(1, 2), num_res_blocks=1,
                           attention_resolutions=(4,), dropout=0.1)
    return Diffusion(unet, timesteps=timesteps, **kwargs)


def tiny_batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 8, 8, generator=g), torch.randint(0, NUM_CLASSES, (n,), generator=g)


def relative_error(estimate: dict[str, torch.Tensor], reference: dict[str, torch.Tensor]) -> float:
    diff = torch.cat([(estimate[k] - reference[k]).flatten() for k in reference])
    return (diff.norm() / torch.cat([r.flatten() for r in reference.values()]).norm()).item()


@pytest.mark.parametrize("image_shape, channel_mult, attention", [((3, 8, 8), (1, 2), (4,)),
                                                                  ((1, 16, 16), (1, 2, 2), (8,))])
def test_unet_output_shape_with_and_without_null_class(image_shape, channel_mult, attention):
    unet = ConditionalUNet(image_shape, NUM_CLASSES, base_channels=16, channel_mult=channel_mult,
                           num_res_blocks=2, attention_resolutions=attention)
    x = torch.randn(3, *image_shape)
    t = torch.tensor([0, 5, 999])
    for c in (torch.tensor([0, 1, 3]), torch.full((3,), NUM_CLASSES)):
        assert unet(x, t, c).shape == x.shape
    assert any(isinstance(m, torch.nn.GroupNorm) for m in unet.modules())


@pytest.mark.parametrize("sampler, steps", [("ddpm", None), ("ddim", 5)])
def test_sampler_is_seeded_and_in_range(sampler, steps):
    model = tiny_diffusion(timesteps=10, sampler=sampler, sampling_steps=steps)
    model.train()
    c = torch.tensor([0, 1, 2, 3, 0])

    def draw(seed):
        return model.sample(c, generator=torch.Generator().manual_seed(seed), batch_size=3, progress=False)

    a, b, other = draw(0), draw(0), draw(1)
    assert a.shape == (5, 3, 8, 8)
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b)
    assert not torch.allclose(a, other)
    assert model.training  # sampling switched to eval mode only for its duration


class PerfectDenoiser(torch.nn.Module):
    """The exact eps of a data distribution that is the one image ``target``, whatever the class."""

    def __init__(self, target: torch.Tensor, alphas_cumprod: torch.Tensor):
        super().__init__()
        self.target, self.alphas_cumprod = 2 * target - 1, alphas_cumprod

    def forward(self, x_t, t, c):
        abar = self.alphas_cumprod[t][:, None, None, None]
        return (x_t - abar.sqrt() * self.target) / (1 - abar).sqrt()


@pytest.mark.parametrize("sampler, steps", [("ddpm", None), ("ddpm", 4), ("ddim", 4)])
def test_samplers_return_the_image_of_a_perfect_denoiser(sampler, steps):
    model = tiny_diffusion(timesteps=10, sampler=sampler, sampling_steps=steps)
    target = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(0))
    model.unet = PerfectDenoiser(target, model.alphas_cumprod)
    images = model.sample(torch.tensor([0, 1]), generator=torch.Generator().manual_seed(1), progress=False)
    assert torch.allclose(images, target.expand_as(images), atol=1e-5)


def test_exact_fisher_matches_per_timestep_loop():
    T, n = 20, 3
    model = tiny_diffusion(timesteps=T)
    x, c = tiny_batch(n)
    noise = torch.randn(n, T, 3, 8, 8, generator=torch.Generator().manual_seed(1))

    # Reference: one forward/backward per (sample, timestep), the schedule recomputed here.
    model.eval()
    abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, T, dtype=torch.float64), 0).float()
    params = dict(model.named_parameters())
    reference = {name: torch.zeros_like(p) for name, p in params.items()}
    for i in range(n):
        model.zero_grad()
        for t in range(T):
            x_t = abar[t].sqrt() * (2 * x[i:i + 1] - 1) + (1 - abar[t]).sqrt() * noise[i, t:t + 1]
            eps_hat = model.unet(x_t, torch.tensor([t]), c[i:i + 1])
            (eps_hat - noise[i, t:t + 1]).pow(2).sum().backward()
        for name, p in params.items():
            reference[name] += p.grad.pow(2) / n
    model.train()

    exact = fisher_exact(model, x, c, noise=noise, timestep_batch=7, progress=False)
    assert exact.keys() == params.keys()
    assert relative_error(exact, reference) <= 1e-4
    assert model.training

    # Drawing the table from a generator, sample after sample, gives the same numbers.
    g = torch.Generator().manual_seed(1)
    drawn = fisher_exact(model, x, c, generator=torch.Generator().manual_seed(1), progress=False)
    assert relative_error(drawn, fisher_exact(model, x, c, noise=torch.stack(
        [torch.randn(T, 3, 8, 8, generator=g) for _ in range(n)]), progress=False)) == 0


def test_sampled_fisher_error_shrinks_with_k():
    T, n = 10, 4
    model = tiny_diffusion(timesteps=T)
    x, c = tiny_batch(n)
    noise = torch.randn(n, T, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    exact = fisher_exact(model, x, c, noise=noise, progress=False)

    def mean_error(k):
        errors = [relative_error(fisher_sampled(model, x, c, k, generator=torch.Generator().manual_seed(s),
                                                noise=noise, progress=False), exact) for s in range(3)]
        return sum(errors) / len(errors)

    small, large = mean_error(1), mean_error(8 * T)
    assert math.isfinite(small) and math.isfinite(large)
    assert large < 0.5 * small


def test_elbo_is_deterministic_given_noise():
    model = tiny_diffusion(timesteps=50).eval()
    x, c = tiny_batch(6)
    noise = torch.randn(*model.noise_shape(6), generator=torch.Generator().manual_seed(0))
    elbo = model.elbo(x, c, noise)
    assert elbo.shape == (6,)
    assert torch.equal(elbo, model.elbo(x, c, noise))
    assert not torch.allclose(elbo, model.elbo(x, c, torch.randn_like(noise)))
    # The last column picks the timestep: very negative -> t = 0, very positive -> t = T-1.
    eps = noise[:, :-1].reshape(x.shape)
    for z, t in ((-10.0, 0), (10.0, 49)):
        fixed = torch.cat([noise[:, :-1], torch.full((6, 1), z)], dim=1)
        assert torch.allclose(model.elbo(x, c, fixed), -model.loss(x, c, torch.full((6,), t), eps))


def test_elbo_works_with_vmap_fisher():
    model = tiny_diffusion().eval()
    x, c = tiny_batch(3)
    noise = torch.randn(*model.noise_shape(3), generator=torch.Generator().manual_seed(0))
    fisher = diagonal_fisher(model, negative_elbo, (x, c, noise), method="vmap", progress=False)
    reference = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for i in range(3):
        model.zero_grad()
        negative_elbo(model, x[i:i + 1], c[i:i + 1], noise[i:i + 1]).sum().backward()
        for name, p in model.named_parameters():
            reference[name] += p.grad.pow(2) / 3
    assert relative_error(fisher, reference) <= 1e-4


def test_training_reduces_loss():
    model = tiny_diffusion(timesteps=50)
    x, c = tiny_batch(8)
    x_eval, c_eval = x.repeat(8, 1, 1, 1), c.repeat(8)
    noise = torch.randn(*model.noise_shape(64), generator=torch.Generator().manual_seed(1))

    def eval_loss():
        model.eval()
        with torch.no_grad():
            loss = -model.elbo(x_eval, c_eval, noise).mean().item()
        model.train()
        return loss

    before = eval_loss()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(2)
    for _ in range(60):
        optimizer.zero_grad()
        model.training_loss(x, c, generator=g).backward()
        optimizer.step()
    assert eval_loss() < 0.8 * before


def test_ema_tracks_parameters():
    model = tiny_diffusion()
    ema = EMA(model, decay=0.9)
    start = {name: p.detach().clone() for name, p in model.named_parameters()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    for name, s in ema.shadow.items():
        assert torch.allclose(s, start[name] + 0.1)

    restored = EMA(model, decay=0.5)
    restored.load_state_dict(ema.state_dict())
    assert restored.decay == 0.9
    restored.copy_to(model)
    for name, p in model.named_parameters():
        assert torch.allclose(p, start[name] + 0.1)
