rule make_table1:
    input:
        metrics=[f"{RESULTS}/{row['exp']}/{row['run']}/metrics.json" for row in TABLE1_ROWS],
        classifiers=[f"{RESULTS}/classifiers/{d}.json" for d in used_datasets()],
        paper=Path(workflow.basedir) / "config" / "paper_results.yaml",
    output:
        csv=f"{RESULTS}/tables/table1.csv",
        md=f"{RESULTS}/tables/table1.md",
        provenance=f"{RESULTS}/tables/table1.provenance.json",
    params:
        rows=TABLE1_ROWS,
        config=config,
        code=code_version("sa/tables.py", "sa/runtime.py"),
    log:
        "logs/make_table1.log",
    script:
        "../workflow_scripts/make_table1.py"
