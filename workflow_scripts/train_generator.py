"""Train the original conditional generative model θ* of an experiment."""
from sa.data import dataset_info, load_split
from sa.io import resolve_device, save_json
from sa.models import build_generator, save_model
from sa.runtime import start_job
from sa.train import train_vae
from sa.training import clear_checkpoint

p = snakemake.params
log = start_job(snakemake.log[0], seed=p.train["seed"], threads=snakemake.threads)
device = resolve_device(p.device)
info = dataset_info(p.dataset)
x, y = load_split(snakemake.input[0], "train")

model = build_generator(p.kind, p.model, info).to(device)
log.info("%s %s: %d parameters, %d training images", snakemake.wildcards.exp, p.kind,
         sum(t.numel() for t in model.parameters()), len(x))
checkpoint = snakemake.output.model + ".ckpt"
history = train_vae(model, x.to(device), y.to(device), p.train["steps"], p.train["lr"], p.train["batch_size"],
                    checkpoint, p.checkpoint_every)

build_args = {"role": "generator", "kind": p.kind, "dataset": p.dataset, "spec": p.model}
save_model(model.cpu(), build_args, snakemake.output.model)
save_json({"history": history}, snakemake.output.history)
clear_checkpoint(checkpoint)
