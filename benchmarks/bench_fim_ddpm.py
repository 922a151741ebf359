"""Diagonal FIM of a tiny class-conditional DDPM: batched timesteps vs one timestep at a time.

Times :func:`sa.diffusion.fisher_exact` with ``timestep_batch`` timesteps per forward/backward
against the same computation with one timestep per forward/backward (``timestep_batch=1``, the
loop of the paper's code), checks that they agree, and prints the relative error
``||F_K - F|| / ||F||`` of the sampled estimator for several K, and the ratio ``sum F_K / sum F``
that shows its upward bias. Errors are averaged over ``--repeats`` timestep draws, with the eps
table of the exact FIM ("shared eps": only the timestep subsampling differs) and with fresh eps
(as in use; the line "exact, other eps" gives the floor that the eps noise alone sets).

    .venv/bin/python benchmarks/bench_fim_ddpm.py --samples 4 --timesteps 1000
"""

from __future__ import annotations

import argparse
import time

import torch

from sa.diffusion import Diffusion, fisher_exact, fisher_sampled
from sa.models.unet import ConditionalUNet


def relative_error(estimate: dict[str, torch.Tensor], reference: dict[str, torch.Tensor]) -> float:
    diff = torch.cat([(estimate[k] - reference[k]).flatten() for k in reference])
    return (diff.norm() / torch.cat([r.flatten() for r in reference.values()]).norm()).item()


def total(fisher: dict[str, torch.Tensor]) -> float:
    return sum(f.sum().item() for f in fisher.values())


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--timesteps", type=int, default=1000)
    parser.add_argument("--timestep-batch", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=8)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--base-channels", type=int, default=16)
    parser.add_argument("--channel-mult", type=str, default="1,2")
    parser.add_argument("--num-res-blocks", type=int, default=1)
    parser.add_argument("--ks", type=str, default="1,4,16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; a tiny model gains little from more, and they oversubscribe a busy machine")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    torch.manual_seed(args.seed)
    mult = tuple(int(m) for m in args.channel_mult.split(","))
    shape = (args.channels, args.image_size, args.image_size)
    unet = ConditionalUNet(shape, 10, args.base_channels, mult, args.num_res_blocks,
                           attention_resolutions=(args.image_size // 2 ** (len(mult) - 1),))
    model = Diffusion(unet, timesteps=args.timesteps)
    n, T = args.samples, args.timesteps
    g = torch.Generator().manual_seed(args.seed)
    x, c = torch.rand(n, *shape, generator=g), torch.randint(0, 10, (n,), generator=g)
    noise = torch.randn(n, T, *shape, generator=g)
    print(f"model: {sum(p.numel() for p in model.parameters())} parameters, image {shape}, T={T}, "
          f"{n} samples, {torch.get_num_threads()} threads")

    exact, t_batched = timed(lambda: fisher_exact(model, x, c, noise=noise, timestep_batch=args.timestep_batch,
                                                  progress=False))
    loop, t_loop = timed(lambda: fisher_exact(model, x, c, noise=noise, timestep_batch=1, progress=False))
    error = relative_error(exact, loop)
    print(f"per-timestep loop: {t_loop:.2f} s ({t_loop / n:.3f} s/sample)")
    print(f"batched ({args.timestep_batch} timesteps/pass): {t_batched:.2f} s ({t_batched / n:.3f} s/sample)")
    print(f"relative error batched vs loop: {error:.1e}")
    print(f"speedup: {t_loop / t_batched:.1f}x")
    if error > 1e-4:
        raise SystemExit("batched and per-timestep FIM disagree")

    other_eps = fisher_exact(model, x, c, generator=torch.Generator().manual_seed(args.seed + 1), progress=False)
    print(f"exact, other eps: relative error {relative_error(other_eps, exact):.3f}, "
          f"sum ratio {total(other_eps) / total(exact):.3f}")
    print("K    s/sample  rel.err(shared eps)  sum ratio(shared eps)  rel.err(fresh eps)  sum ratio(fresh eps)")
    for k in (int(k) for k in args.ks.split(",")):
        rows = []
        for r in range(args.repeats):
            shared, seconds = timed(lambda: fisher_sampled(model, x, c, k, torch.Generator().manual_seed(r),
                                                           noise=noise, progress=False))
            fresh = fisher_sampled(model, x, c, k, torch.Generator().manual_seed(r), progress=False)
            rows.append((seconds / n, relative_error(shared, exact), total(shared) / total(exact),
                         relative_error(fresh, exact), total(fresh) / total(exact)))
        means = [sum(col) / len(col) for col in zip(*rows)]
        print(f"{k:<4d} {means[0]:8.3f}  {means[1]:19.3f}  {means[2]:21.3f}  {means[3]:18.3f}  {means[4]:20.3f}")


if __name__ == "__main__":
    main()
