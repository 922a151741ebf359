"""Table 1's metrics for one model's samples: H, P(c_f), accuracy on remembered classes and, where
configured, FID, precision and recall of the remembered classes against their training images."""
import torch

from sa.data import load_split
from sa.io import load_torch, resolve_device, save_json
from sa.metrics import (accuracy_per_class, classifier_features, classifier_probabilities, forgetting_scores,
                        frechet_distance, inception_features, precision_recall)
from sa.models import load_model
from sa.runtime import start_job
from sa.sampling import to_float

p = snakemake.params
log = start_job(snakemake.log[0])
device = resolve_device(p.device)
samples = load_torch(snakemake.input.samples)
classifier, _ = load_model(snakemake.input.classifier)
classifier.to(device)

forget_probs = classifier_probabilities(classifier, to_float(samples["forget_images"]))
remember_images = to_float(samples["remember_images"])
remember_probs = classifier_probabilities(classifier, remember_images)
per_class = accuracy_per_class(remember_probs, samples["remember_labels"])
metrics = {
    **forgetting_scores(forget_probs, samples["forget_labels"]),
    "remembered_accuracy": sum(per_class.values()) / len(per_class),
    "remembered_accuracy_per_class": per_class,
    "forget_samples": len(forget_probs),
    "remember_samples": len(remember_probs),
}

if p.image_metrics:
    x_real, y_real = load_split(snakemake.input.dataset, "train")
    x_real = x_real[torch.isin(y_real, samples["remember_labels"].unique())]
    if p.features == "classifier":
        real, fake = classifier_features(classifier, x_real), classifier_features(classifier, remember_images)
    else:
        real, fake = inception_features(x_real), inception_features(remember_images)
    precision, recall = precision_recall(real, fake)
    metrics.update(fid=frechet_distance(real, fake), precision=precision, recall=recall,
                   image_features=p.features, real_images=len(x_real))

log.info("%s/%s: %s", snakemake.wildcards.exp, snakemake.wildcards.run,
         {k: v for k, v in metrics.items() if isinstance(v, float)})
save_json(metrics, snakemake.output[0])
