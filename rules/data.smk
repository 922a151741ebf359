rule prepare_dataset:
    output:
        f"{RESULTS}/data/{{dataset}}.npz",
    params:
        settings=config["datasets"],
        code=code_version("sa/data.py"),
    resources:
        **rule_resources("prepare_dataset"),
    log:
        "logs/prepare_dataset/{dataset}.log",
    script:
        "../workflow_scripts/prepare_dataset.py"
