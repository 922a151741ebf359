"""Checkpointed loops: a killed-and-resumed run ends with the weights of an uninterrupted one."""
import pytest
import torch

from sa.data import build_dataset
from sa.models.cvae import ConditionalVAE
from sa.train import train_vae
from sa.training import Checkpoint


class Killed(Exception):
    pass


def _data():
    arrays = build_dataset("digits", "unused", 0.2, 0)
    return torch.from_numpy(arrays["x_train"]).float() / 255, torch.from_numpy(arrays["y_train"])


def _train(checkpoint=None, kill_at=None):
    torch.manual_seed(0)
    model = ConditionalVAE((1, 8, 8), 10, hidden=(32, 16), z_dim=4)
    x, y = _data()
    if kill_at is not None:
        original_elbo = model.elbo

        def elbo_that_dies(*args, **kwargs):
            elbo_that_dies.calls += 1
            if elbo_that_dies.calls > kill_at:
                raise Killed()
            return original_elbo(*args, **kwargs)
        elbo_that_dies.calls = 0
        model.elbo = elbo_that_dies
    train_vae(model, x, y, steps=40, lr=1e-2, batch_size=16, checkpoint=checkpoint)
    return model


def test_resume_after_a_kill_gives_identical_weights(tmp_path):
    uninterrupted = _train()
    checkpoint = Checkpoint(tmp_path / "model.ckpt", every=10, fingerprint="a")
    with pytest.raises(Killed):
        _train(checkpoint, kill_at=25)  # dies in step 25, after the checkpoint of step 20
    assert checkpoint_step(checkpoint) == 20
    resumed = _train(checkpoint)  # a fresh process would start exactly like this: new model, same seed
    for a, b in zip(uninterrupted.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_a_checkpoint_of_other_settings_is_not_resumed(tmp_path):
    with pytest.raises(Killed):
        _train(Checkpoint(tmp_path / "model.ckpt", every=10, fingerprint="old"), kill_at=25)
    fresh = _train(Checkpoint(tmp_path / "model.ckpt", every=10, fingerprint="new"))
    for a, b in zip(_train().state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)


def checkpoint_step(checkpoint):
    return torch.load(checkpoint.path, weights_only=False)["step"]


def test_sampling_resumes_after_a_kill_with_identical_images(tmp_path):
    from sa.models.cvae import ConditionalVAE
    from sa.sampling import generate

    torch.manual_seed(0)
    model = ConditionalVAE((1, 8, 8), 10, hidden=(16,), z_dim=2)
    labels = torch.arange(10).repeat_interleave(3)
    uninterrupted = generate(model, labels, 4, torch.Generator().manual_seed(5))

    checkpoint = Checkpoint(tmp_path / "samples.ckpt", every=1, fingerprint="s")
    original_sample, calls = model.sample, []

    def sample_that_dies(c, generator=None):
        calls.append(1)
        if len(calls) == 5:
            raise Killed()
        return original_sample(c, generator=generator)
    model.sample = sample_that_dies
    with pytest.raises(Killed):
        generate(model, labels, 4, torch.Generator().manual_seed(5), checkpoint=checkpoint)
    model.sample = original_sample
    assert len(torch.load(checkpoint.path, weights_only=False)["images"]) == 4

    resumed = generate(model, labels, 4, torch.Generator().manual_seed(5), checkpoint=checkpoint)
    assert torch.equal(resumed, uninterrupted)
