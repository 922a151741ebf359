"""Stable Diffusion part of the pipeline: sampling, forgetting baselines and the metrics of Tables 2-4."""
