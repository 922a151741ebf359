"""FIM of the paper's VAE: the fast estimator against the per-sample loop, timed in one run.

    python benchmarks/bench_fim_vae.py [--samples 10000] [--threads 2]

Prints both times, the speedup and the relative error between the two results.
"""
import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the reference loop lives in tests/

from sa.fisher import diagonal_fisher, draw_model_samples, negative_elbo  # noqa: E402
from sa.models.cvae import ConditionalVAE  # noqa: E402
from tests.reference import fisher_by_loop, relative_error  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--method", default="outer", choices=["outer", "vmap"])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    model = ConditionalVAE((1, 28, 28), 10, hidden=(512, 256), z_dim=8)  # the paper's VAE
    samples = draw_model_samples(model, args.samples, 10, torch.Generator().manual_seed(1))
    print(f"VAE with {sum(p.numel() for p in model.parameters()):,} parameters, {args.samples:,} samples, "
          f"{args.threads} threads")

    start = time.perf_counter()
    reference = fisher_by_loop(model, negative_elbo, samples)
    loop_seconds = time.perf_counter() - start
    start = time.perf_counter()
    fast = diagonal_fisher(model, negative_elbo, samples, args.chunk_size, args.method, progress=False)
    fast_seconds = time.perf_counter() - start

    print(f"per-sample loop: {loop_seconds:.2f} s ({1e3 * loop_seconds / args.samples:.3f} ms/sample)")
    print(f"{args.method} estimator: {fast_seconds:.2f} s ({1e3 * fast_seconds / args.samples:.3f} ms/sample)")
    print(f"relative error: {relative_error(fast, reference):.2e}")
    print(f"speedup: {loop_seconds / fast_seconds:.1f}x")


if __name__ == "__main__":
    main()
