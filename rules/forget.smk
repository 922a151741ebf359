wildcard_constraints:
    variant="|".join(sorted({v for e in EXPERIMENTS.values() for v in e["variants"]})),


rule forget_sa:
    input:
        model=f"{RESULTS}/{{exp}}/original/model.pt",
        fisher=f"{RESULTS}/{{exp}}/fim.pt",
    output:
        model=f"{RESULTS}/{{exp}}/{{variant}}/model.pt",
        history=f"{RESULTS}/{{exp}}/{{variant}}/history.json",
    params:
        forget=lambda w: forget_settings(w.exp, w.variant),
        forget_classes=lambda w: experiment(w)["forget_classes"],
        device=config["device"],
        checkpoint_every=config["checkpoint_every"],
        code=code_version("sa/forget.py", "sa/training.py", "sa/models/cvae.py"),
    threads: config["threads"]
    log:
        "logs/forget_sa/{exp}/{variant}.log",
    script:
        "../workflow_scripts/forget_sa.py"
