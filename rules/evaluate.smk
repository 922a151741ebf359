wildcard_constraints:
    run="[A-Za-z0-9_]+",


rule sample_model:
    input:
        f"{RESULTS}/{{exp}}/{{run}}/model.pt",
    output:
        f"{RESULTS}/{{exp}}/{{run}}/samples.pt",
    params:
        forget_classes=lambda w: experiment(w)["forget_classes"],
        evaluate=lambda w: experiment(w)["evaluate"],
        device=config["device"],
        code=code_version("sa/sampling.py", "sa/models/cvae.py", "sa/models/unet.py", "sa/diffusion.py"),
    threads: config["threads"]
    resources:
        **rule_resources("sample_model"),
    log:
        "logs/sample_model/{exp}/{run}.log",
    script:
        "../workflow_scripts/sample_model.py"


rule evaluate_model:
    input:
        samples=f"{RESULTS}/{{exp}}/{{run}}/samples.pt",
        classifier=lambda w: f"{RESULTS}/classifiers/{experiment(w)['dataset']}.pt",
        dataset=lambda w: f"{RESULTS}/data/{experiment(w)['dataset']}.npz",
    output:
        f"{RESULTS}/{{exp}}/{{run}}/metrics.json",
    params:
        image_metrics=lambda w: experiment(w)["evaluate"]["image_metrics"],
        features=lambda w: experiment(w)["evaluate"]["features"],
        device=config["device"],
        code=code_version("sa/metrics.py"),
    resources:
        **rule_resources("evaluate_model"),
    log:
        "logs/evaluate_model/{exp}/{run}.log",
    script:
        "../workflow_scripts/evaluate_model.py"


rule plot_samples:
    input:
        original=f"{RESULTS}/{{exp}}/original/samples.pt",
        forgotten=f"{RESULTS}/{{exp}}/{{variant}}/samples.pt",
    output:
        report(f"{RESULTS}/figures/{{exp}}/{{variant}}.png", caption="../report/samples.rst", category="Figures",
               labels={"experiment": "{exp}", "model": "{variant}"}),
    params:
        label=lambda w: experiment(w)["variants"][w.variant]["label"],
        table=lambda w: experiment(w)["table"],
        per_class=8,
        code=code_version("sa/figures.py"),
    resources:
        **rule_resources("plot_samples"),
    log:
        "logs/plot_samples/{exp}/{variant}.log",
    script:
        "../workflow_scripts/plot_samples.py"
