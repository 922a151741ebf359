"""Data-parallel forgetting on several GPUs: one process per GPU, started by ``accelerate launch``.

Each process draws its own batches (its seed plus its rank) and, after every backward pass, the
gradients are averaged over the processes, so all of them take the same step: the update of one
process with ``world_size`` times the batch. The launcher (``accelerate launch --multi_gpu``, or
``torchrun``) sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; without them this is one process.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Processes:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def average_gradients(self, params: list[torch.Tensor]) -> None:
        """Replace each parameter's gradient by its mean over the processes."""
        if self.world_size == 1:
            return
        for p in params:
            if p.grad is not None:
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                p.grad /= self.world_size


def join_processes(device: torch.device) -> Processes:
    """This process's place among those the launcher started (joining their process group), or a
    single process on ``device``. Under a launcher each process takes the GPU of its local rank."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Processes(0, 1, device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return Processes(dist.get_rank(), world_size, device)


def launch_command(script: str, processes: int) -> list[str]:
    """The command that runs ``script`` in ``processes`` processes, one per GPU."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
            "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", script]


def is_launched() -> bool:
    return "WORLD_SIZE" in os.environ
