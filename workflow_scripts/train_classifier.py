"""Train the scoring classifier on a dataset's train split; record its test accuracy."""
from sa.data import dataset_info, load_split
from sa.io import resolve_device, save_json
from sa.models import build_classifier, save_model
from sa.runtime import config_hash, start_job
from sa.train import accuracy, train_classifier
from sa.training import Checkpoint

settings = snakemake.params.settings
log = start_job(snakemake.log[0], seed=settings["seed"], threads=snakemake.threads)
device = resolve_device(snakemake.params.device)
name = snakemake.wildcards.dataset
info = dataset_info(name)
x_train, y_train = load_split(snakemake.input[0], "train")
x_test, y_test = load_split(snakemake.input[0], "test")

model = build_classifier(settings, info).to(device)
checkpoint = Checkpoint(snakemake.output.model + ".ckpt", snakemake.params.checkpoint_every, config_hash(settings))
history = train_classifier(model, x_train.to(device), y_train.to(device), settings["epochs"], settings["lr"],
                           settings["batch_size"], checkpoint)
test_accuracy = accuracy(model, x_test.to(device), y_test.to(device))
log.info("%s classifier: test accuracy %.4f on %d images", name, test_accuracy, len(x_test))

save_model(model.cpu(), {"role": "classifier", "dataset": name, "spec": settings}, snakemake.output.model)
save_json({"dataset": name, "test_accuracy": test_accuracy, "test_images": len(x_test), "history": history},
          snakemake.output.metrics)
checkpoint.clear()
