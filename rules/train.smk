rule train_generator:
    input:
        lambda w: f"{RESULTS}/data/{experiment(w)['dataset']}.npz",
    output:
        model=f"{RESULTS}/{{exp}}/original/model.pt",
        history=f"{RESULTS}/{{exp}}/original/history.json",
    params:
        kind=lambda w: experiment(w)["kind"],
        dataset=lambda w: experiment(w)["dataset"],
        model=lambda w: experiment(w)["model"],
        train=lambda w: experiment(w)["train"],
        device=config["device"],
        checkpoint_every=config["checkpoint_every"],
        code=code_version("sa/train.py", "sa/training.py", "sa/models/cvae.py", "sa/models/__init__.py"),
    threads: config["threads"]
    log:
        "logs/train_generator/{exp}.log",
    script:
        "../workflow_scripts/train_generator.py"
