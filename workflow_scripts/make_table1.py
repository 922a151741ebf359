"""Table 1 (classifier metrics and, where measured, FID/precision/recall) beside the paper's values."""
from pathlib import Path

import yaml

from sa.io import load_json, save_json
from sa.runtime import provenance, start_job
from sa.tables import build_table1, save_table

log = start_job(snakemake.log[0])
records = [{"table": row["table"], "row": row["label"], "reference": row["reference"], "paper_row": row["paper_row"],
            **load_json(path)}
           for row, path in zip(snakemake.params.rows, snakemake.input.metrics)]
paper = yaml.safe_load(Path(snakemake.input.paper).read_text())["table1"]

table = build_table1(records, paper)
caption = ("Table 1: classifier entropy H and probability of the forgotten class on samples of c_f; "
           "Acc. remembered is the classifier's accuracy on samples of the remembered classes; FID, precision "
           "and recall compare samples of the remembered classes with their training images, on the features "
           "named in the column (inception: the paper's; classifier: the dataset's own classifier, offline).")
save_table(table, snakemake.output.csv, snakemake.output.md, caption)
save_json(provenance(snakemake.params.config, Path(snakemake.scriptdir).parent), snakemake.output.provenance)
log.info("\n%s", table.to_string())
