wildcard_constraints:
    base="original|nine_classes",


rule train_generator:
    """θ* on every class (original), or the baseline trained without the classes to forget."""
    input:
        lambda w: f"{RESULTS}/data/{experiment(w)['dataset']}.npz",
    output:
        model=f"{RESULTS}/{{exp}}/{{base}}/model.pt",
        history=f"{RESULTS}/{{exp}}/{{base}}/history.json",
    params:
        kind=lambda w: experiment(w)["kind"],
        dataset=lambda w: experiment(w)["dataset"],
        model=lambda w: experiment(w)["model"],
        train=lambda w: experiment(w)["train"],
        exclude_classes=lambda w: experiment(w)["forget_classes"] if w.base == "nine_classes" else [],
        device=config["device"],
        checkpoint_every=config["checkpoint_every"],
        code=code_version("sa/train.py", "sa/training.py", "sa/models/cvae.py", "sa/models/unet.py",
                          "sa/diffusion.py", "sa/models/__init__.py"),
    threads: config["threads"]
    resources:
        **rule_resources("train_generator"),
    log:
        "logs/train_generator/{exp}/{base}.log",
    script:
        "../workflow_scripts/train_generator.py"


rule generate_replay:
    """The stored samples of a DDPM that serve both the FIM and the replay term (paper: 500 per class)."""
    input:
        f"{RESULTS}/{{exp}}/original/model.pt",
    output:
        f"{RESULTS}/{{exp}}/replay.pt",
    params:
        replay=lambda w: experiment(w)["replay"],
        device=config["device"],
        code=code_version("sa/sampling.py", "sa/diffusion.py", "sa/models/unet.py"),
    threads: config["threads"]
    resources:
        **rule_resources("generate_replay"),
    log:
        "logs/generate_replay/{exp}.log",
    script:
        "../workflow_scripts/generate_replay.py"
