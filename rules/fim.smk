def fim_inputs(wildcards):
    """A VAE's FIM draws fresh samples; a DDPM's uses the stored replay set."""
    inputs = {"model": f"{RESULTS}/{wildcards.exp}/original/model.pt"}
    if experiment(wildcards)["kind"] == "ddpm":
        inputs["replay"] = f"{RESULTS}/{wildcards.exp}/replay.pt"
    return inputs


rule compute_fim:
    input:
        unpack(fim_inputs),
    output:
        fisher=f"{RESULTS}/{{exp}}/fim.pt",
        summary=f"{RESULTS}/{{exp}}/fim.json",
    params:
        fim=lambda w: experiment(w)["fim"],
        device=config["device"],
        code=code_version("sa/fisher.py", "sa/diffusion.py", "sa/models/cvae.py", "sa/models/unet.py"),
    threads: config["threads"]
    resources:
        **rule_resources("compute_fim"),
    log:
        "logs/compute_fim/{exp}.log",
    script:
        "../workflow_scripts/compute_fim.py"
