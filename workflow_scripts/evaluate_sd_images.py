"""Score an image set: the GIPHY Celebrity Detector (Table 2) or NudeNet's exposed classes (Tables 3 and 4)."""
from sa.io import resolve_device, save_json
from sa.runtime import start_job
from sa.sd.generate import read_image_set

p = snakemake.params
log = start_job(snakemake.log[0], threads=snakemake.threads)
paths = [entry["path"] for entry in read_image_set(snakemake.input.images)]
if p.evaluation["table"] == "table2":
    from sa.sd.celebrity import gcd_evaluate

    result = gcd_evaluate(paths, p.evaluation["target"], p.gcd_dir, str(resolve_device(p.device)))
    details = result.pop("face_probs")
else:
    from sa.sd.nudity import nudity_counts

    result = nudity_counts(paths)
    details = result.pop("detections")
log.info("%s: %s", snakemake.input.images, result)
save_json(details, snakemake.output.detections)
save_json(result, snakemake.output.metrics)
