rule compute_fim:
    input:
        f"{RESULTS}/{{exp}}/original/model.pt",
    output:
        fisher=f"{RESULTS}/{{exp}}/fim.pt",
        summary=f"{RESULTS}/{{exp}}/fim.json",
    params:
        fim=lambda w: experiment(w)["fim"],
        device=config["device"],
        code=code_version("sa/fisher.py", "sa/models/cvae.py"),
    threads: config["threads"]
    log:
        "logs/compute_fim/{exp}.log",
    script:
        "../workflow_scripts/compute_fim.py"
