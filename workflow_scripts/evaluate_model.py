"""Table 1's classifier metrics for one model's samples: H, P(c_f), accuracy on remembered classes."""
from sa.io import load_torch, resolve_device, save_json
from sa.metrics import accuracy_per_class, classifier_probabilities, forgetting_scores
from sa.models import load_model
from sa.runtime import start_job
from sa.sampling import to_float

log = start_job(snakemake.log[0])
device = resolve_device(snakemake.params.device)
samples = load_torch(snakemake.input.samples)
classifier, _ = load_model(snakemake.input.classifier)
classifier.to(device)

forget_probs = classifier_probabilities(classifier, to_float(samples["forget_images"]))
remember_probs = classifier_probabilities(classifier, to_float(samples["remember_images"]))
per_class = accuracy_per_class(remember_probs, samples["remember_labels"])
metrics = {
    **forgetting_scores(forget_probs, samples["forget_labels"]),
    "remembered_accuracy": sum(per_class.values()) / len(per_class),
    "remembered_accuracy_per_class": per_class,
    "forget_samples": len(forget_probs),
    "remember_samples": len(remember_probs),
}
log.info("%s/%s: H=%.4f P(c_f)=%.4f remembered accuracy=%.4f", snakemake.wildcards.exp, snakemake.wildcards.run,
         metrics["entropy"], metrics["p_forget"], metrics["remembered_accuracy"])
save_json(metrics, snakemake.output[0])
