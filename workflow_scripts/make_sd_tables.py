"""Tables 2 (celebrities, GCD), 3 (I2P, NudeNet) and 4 (naked person, NudeNet) beside the paper's values."""
from pathlib import Path

import yaml

from sa.io import load_json, save_json
from sa.runtime import provenance, start_job
from sa.sd.tables import CAPTIONS, build_nudity_table, build_table2
from sa.tables import save_table

log = start_job(snakemake.log[0])
paper = yaml.safe_load(Path(snakemake.input.paper).read_text())
records = [{**row, "column": row.get("column") or f"Forget {row.get('target')}", **load_json(path)}
           for row, path in zip(snakemake.params.rows, snakemake.input.metrics)]

for table in snakemake.params.tables:
    chosen = [r for r in records if r["table"] == table]
    build = build_table2 if table == "table2" else build_nudity_table
    frame = build(chosen, paper.get(table, {}))
    csv, md = (next(f for f in snakemake.output if f.endswith(f"/{table}.{ext}")) for ext in ("csv", "md"))
    save_table(frame, csv, md, CAPTIONS[table])
    log.info("%s\n%s", table, frame.to_string())
save_json(provenance(snakemake.params.config, Path(snakemake.scriptdir).parent), snakemake.output.provenance)
