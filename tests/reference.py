"""Plain reference implementations that the fast estimators are checked against."""
import torch


def fisher_by_loop(model, objective, samples):
    """One sample, one backward, square, accumulate: the definition of the diagonal FIM."""
    fisher = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    n = len(samples[0])
    for i in range(n):
        model.zero_grad()
        objective(model, *(t[i:i + 1] for t in samples)).sum().backward()
        for name, p in model.named_parameters():
            fisher[name] += p.grad.pow(2)
    return {name: f / n for name, f in fisher.items()}


def relative_error(a: dict, b: dict) -> float:
    num = sum((a[k] - b[k]).pow(2).sum() for k in b).sqrt()
    den = sum(b[k].pow(2).sum() for k in b).sqrt()
    return (num / den).item()
