"""Data-parallel forgetting: two processes started by `accelerate launch` (gloo on CPU) take the same
steps as one process that averages both processes' gradients."""
import importlib.util
import os
import subprocess
import textwrap

import torch

from sa.distributed import join_processes, launch_command

TOY = '''
import torch
from torch import nn


class Toy(nn.Module):
    """A model with an "ELBO": minus the squared error of a linear map."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.w = nn.Linear(4, 1)

    def elbo(self, x, c):
        return -(self.w(x).squeeze(-1) - c).pow(2)


def sampler(seed):
    generator = torch.Generator().manual_seed(seed)
    return lambda n: (torch.randn(n, 4, generator=generator), torch.randn(n, generator=generator))
'''

WORKER = '''
import sys
import torch
from sa.distributed import join_processes
from sa.forget import selective_amnesia
from toy import Toy, sampler

out, average = sys.argv[1], sys.argv[2] == "average"
processes = join_processes(torch.device("cpu"))
model = Toy()
fisher = {name: torch.ones_like(p) for name, p in model.named_parameters()}
selective_amnesia(model, fisher, sampler(10 + processes.rank), sampler(20 + processes.rank), lam=0.5, steps=5,
                  lr=0.1, batch_size=8, average_gradients=processes.average_gradients if average else None)
torch.save(dict(model.named_parameters()), f"{out}/rank{processes.rank}.pt")
'''


def run_two_processes(tmp_path, mode):
    (tmp_path / "toy.py").write_text(textwrap.dedent(TOY))
    (tmp_path / "worker.py").write_text(textwrap.dedent(WORKER))
    out = tmp_path / mode
    out.mkdir()
    command = launch_command(str(tmp_path / "worker.py"), 2)[:-1] + [str(tmp_path / "worker.py"), str(out), mode]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": f"{tmp_path}:{os.getcwd()}"})
    assert result.returncode == 0, result.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt") for r in range(2)]


def reference(tmp_path):
    """One process: each step averages the gradients of both processes' batches by hand."""
    spec = importlib.util.spec_from_file_location("toy_reference", tmp_path / "toy.py")
    toy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toy)
    model = toy.Toy()
    samplers = [(toy.sampler(10 + r), toy.sampler(20 + r)) for r in range(2)]
    anchor = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(5):
        grads = []
        for surrogate, replay in samplers:
            penalty = sum((p - anchor[n]).pow(2).sum() for n, p in model.named_parameters())
            objective = model.elbo(*surrogate(8)).mean() - 0.25 * penalty + model.elbo(*replay(8)).mean()
            grads.append(torch.autograd.grad(-objective, list(model.parameters())))
        for p, g0, g1 in zip(model.parameters(), *grads):
            p.grad = (g0 + g1) / 2
        optimizer.step()
    return dict(model.named_parameters())


def test_two_processes_take_the_step_of_their_averaged_gradients(tmp_path):
    averaged = run_two_processes(tmp_path, "average")
    expected = reference(tmp_path)
    for name in expected:
        assert torch.equal(averaged[0][name], averaged[1][name]), "every process holds the same weights"
        assert torch.allclose(averaged[0][name], expected[name], atol=1e-6), name
    independent = run_two_processes(tmp_path, "independent")
    assert not torch.equal(independent[0]["w.weight"], independent[1]["w.weight"]), "without averaging they drift apart"


def test_one_process_needs_no_launcher():
    processes = join_processes(torch.device("cpu"))
    assert (processes.rank, processes.world_size, processes.is_main) == (0, 1, True)
