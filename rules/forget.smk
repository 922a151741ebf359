wildcard_constraints:
    variant="|".join(sorted({v for e in EXPERIMENTS.values() for v in e["variants"]})) or "(?!)",


def forget_inputs(wildcards):
    """A VAE replays fresh samples of a frozen copy; a DDPM replays its stored set."""
    inputs = {"model": f"{RESULTS}/{wildcards.exp}/original/model.pt",
              "fisher": f"{RESULTS}/{wildcards.exp}/fim.pt"}
    if experiment(wildcards)["kind"] == "ddpm":
        inputs["replay"] = f"{RESULTS}/{wildcards.exp}/replay.pt"
    return inputs


rule forget_sa:
    input:
        unpack(forget_inputs),
    output:
        model=f"{RESULTS}/{{exp}}/{{variant}}/model.pt",
        history=f"{RESULTS}/{{exp}}/{{variant}}/history.json",
    params:
        forget=lambda w: forget_settings(w.exp, w.variant),
        forget_classes=lambda w: experiment(w)["forget_classes"],
        device=config["device"],
        checkpoint_every=config["checkpoint_every"],
        code=code_version("sa/forget.py", "sa/training.py", "sa/models/cvae.py", "sa/models/unet.py",
                          "sa/diffusion.py"),
    threads: config["threads"]
    resources:
        **rule_resources("forget_sa"),
    log:
        "logs/forget_sa/{exp}/{variant}.log",
    script:
        "../workflow_scripts/forget_sa.py"
