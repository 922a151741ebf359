rule make_table1:
    input:
        metrics=[f"{RESULTS}/{row['exp']}/{row['run']}/metrics.json" for row in TABLE1_ROWS],
        classifiers=[f"{RESULTS}/classifiers/{d}.json" for d in used_datasets()],
        paper=Path(workflow.basedir) / "config" / "paper_results.yaml",
    output:
        csv=report(f"{RESULTS}/tables/table1.csv", caption="../report/table1.rst", category="Table 1"),
        md=report(f"{RESULTS}/tables/table1.md", caption="../report/table1.rst", category="Table 1"),
        provenance=report(f"{RESULTS}/tables/table1.provenance.json", caption="../report/provenance.rst",
                          category="Table 1"),
    params:
        rows=TABLE1_ROWS,
        config=config,
        code=code_version("sa/tables.py", "sa/runtime.py"),
    resources:
        **rule_resources("make_table1"),
    log:
        "logs/make_table1.log",
    script:
        "../workflow_scripts/make_table1.py"
