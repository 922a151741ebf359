rule train_classifier:
    input:
        f"{RESULTS}/data/{{dataset}}.npz",
    output:
        model=f"{RESULTS}/classifiers/{{dataset}}.pt",
        metrics=f"{RESULTS}/classifiers/{{dataset}}.json",
    params:
        settings=config["classifier"],
        device=config["device"],
        checkpoint_every=config["checkpoint_every"],
        code=code_version("sa/train.py", "sa/training.py", "sa/models/classifier.py"),
    threads: config["threads"]
    resources:
        **rule_resources("train_classifier"),
    log:
        "logs/train_classifier/{dataset}.log",
    script:
        "../workflow_scripts/train_classifier.py"
