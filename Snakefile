# Selective Amnesia (Heng & Soh, NeurIPS 2023): every table and figure of the configured tier.
#   snakemake --cores 2                         # the default, offline tier (config/config.yaml)
#   snakemake download_all --cores 1 --configfile config/paper.yaml   # first, where there is internet
#   snakemake --profile profiles/slurm --configfile config/paper.yaml  # the paper's scale, on a cluster
#   snakemake --report report.html                                     # tables and figures in one page

# A --configfile on the command line replaces the default rather than being merged into it.
if not config:

    configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/classifier.smk"
include: "rules/train.smk"
include: "rules/fim.smk"
include: "rules/forget.smk"
include: "rules/evaluate.smk"
include: "rules/tables.smk"
include: "rules/sd.smk"
include: "rules/download.smk"


report: "report/workflow.rst"


rule all:
    input:
        [f"{RESULTS}/tables/table1.{ext}" for ext in ("md", "csv") if EXPERIMENTS],
        [f"{RESULTS}/figures/{exp}/{variant}.png" for exp in EXPERIMENTS for variant in EXPERIMENTS[exp]["variants"]],
        [f"{RESULTS}/tables/{table}.{ext}" for table in SD_TABLES for ext in ("md", "csv")],
        [f"{RESULTS}/figures/sd/{exp}/{evaluation}.png" for exp, e in SD_EXPERIMENTS.items() for evaluation in e["evaluations"]],
    default_target: True
