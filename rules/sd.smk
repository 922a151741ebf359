# Tables 2-4: Selective Amnesia in Stable Diffusion (celebrities, nudity) beside SD v1.4 and v2.1,
# SLD Medium and ESD. Every image set, latent set, FIM and fine-tuned UNet is a file under results/sd/.
#
#   replay latents (base) ──► FIM (base) ──┐
#   surrogate latents (exp) ───────────────┼──► SA UNet ──┐
#   base pipeline ──────────────► ESD UNet ───────────────┼──► evaluation images ──► GCD / NudeNet ──► tables, grids
#   base pipeline (+ SLD at inference) ───────────────────┘

from sa.sd.resources import gcd_marker, sd_model_dir

SD = config.get("stable_diffusion") or {}
SD_EXPERIMENTS = SD.get("experiments", {})
SD_RESULTS = f"{RESULTS}/sd"
SD_TABLES = sorted({ev["table"] for e in SD_EXPERIMENTS.values() for ev in e["evaluations"].values()})
SD_RULES_CODE = ["sa/sd/pipeline.py", "sa/sd/generate.py", "sa/sd/prompts.py"]


def sd_model_index(name):
    """A model's model_index.json: in its local folder, or where the download stage puts a hub model."""
    return str(sd_model_dir(name, SD["models"][name], SD["models_dir"]) / "model_index.json")


def sd_run(exp, run):
    """What generates a run's images: a base model, optionally fine-tuned UNet weights or SLD's concept."""
    e = SD_EXPERIMENTS[exp]
    if run in SD["models"]:
        return {"model": run, "weights": None, "sld_concept": None}
    spec = {"model": SD["base"], "weights": None, "sld_concept": None}
    if run == "sld":
        spec["sld_concept"] = e["sld"].get("concept") or ", ".join(e["forget_prompts"])
    else:
        spec["weights"] = f"{SD_RESULTS}/{exp}/{run}/unet.pt"
    return spec


def sd_run_label(exp, run):
    if run in SD["models"]:
        return SD["labels"].get(run, run)
    if run == "esd":
        return {"xattn": "ESD-x", "noxattn": "ESD-u"}.get(SD_EXPERIMENTS[exp]["esd"]["train_method"], "ESD")
    return {"sld": "SLD Medium", "sa": "SA (ours)"}[run]


def sd_evaluation(w):
    """The evaluation spec of a job's {sdexp} and {evaluation} wildcards."""
    return SD_EXPERIMENTS[w.sdexp]["evaluations"][w.evaluation]


def sd_images_inputs(w):
    run = sd_run(w.sdexp, w.run)
    ev = sd_evaluation(w)
    inputs = {"model": sd_model_index(run["model"])}
    if run["weights"]:
        inputs["weights"] = run["weights"]
    if ev.get("prompts") == "i2p":
        inputs["i2p"] = SD["i2p_csv"]
    elif "prompts" in ev:
        inputs["prompts"] = ev["prompts"]
    return inputs


SD_EVALUATIONS = [{"exp": exp, "run": run, "evaluation": name, **ev, "label": sd_run_label(exp, run)}
                  for exp, e in SD_EXPERIMENTS.items() for name, ev in e["evaluations"].items() for run in e["runs"]]


wildcard_constraints:
    sdexp="|".join(SD_EXPERIMENTS) or "(?!)",
    sdmodel="|".join(SD.get("models", {})) or "(?!)",
    run="[a-z0-9_]+",
    evaluation="[a-z0-9_]+",


rule generate_sd_replay:
    input:
        model=lambda w: sd_model_index(w.sdmodel),
        prompts=SD.get("replay", {}).get("prompts", []),
    output:
        f"{SD_RESULTS}/replay/{{sdmodel}}.pt",
    params:
        replay=SD.get("replay"),
        sampling=SD.get("sampling"),
        resolution=SD.get("resolution"),
        device=config["device"],
        code=code_version(*SD_RULES_CODE),
    threads: config["threads"]
    resources:
        **rule_resources("generate_sd_replay"),
    log:
        "logs/generate_sd_replay/{sdmodel}.log",
    script:
        "../workflow_scripts/generate_sd_latents.py"


rule generate_sd_surrogate:
    input:
        model=lambda w: sd_model_index(SD["base"]),
    output:
        f"{SD_RESULTS}/{{sdexp}}/surrogate.pt",
    params:
        surrogate=lambda w: SD_EXPERIMENTS[w.sdexp]["surrogate"],
        sampling=SD.get("sampling"),
        resolution=SD.get("resolution"),
        device=config["device"],
        code=code_version(*SD_RULES_CODE),
    threads: config["threads"]
    resources:
        **rule_resources("generate_sd_surrogate"),
    log:
        "logs/generate_sd_surrogate/{sdexp}.log",
    script:
        "../workflow_scripts/generate_sd_latents.py"


def sd_fim_inputs(w):
    inputs = {"model": sd_model_index(w.sdmodel)}
    if SD["fim"]["method"] == "precomputed":
        inputs["precomputed"] = SD["fim"]["precomputed"]
    else:
        inputs["replay"] = f"{SD_RESULTS}/replay/{w.sdmodel}.pt"
    return inputs


rule compute_sd_fim:
    input:
        unpack(sd_fim_inputs),
    output:
        fisher=f"{SD_RESULTS}/fim/{{sdmodel}}.pt",
        summary=f"{SD_RESULTS}/fim/{{sdmodel}}.json",
    params:
        fim=SD.get("fim"),
        resolution=SD.get("resolution"),
        device=config["device"],
        code=code_version("sa/sd/pipeline.py", "sa/sd/fisher.py", "sa/diffusion.py"),
    threads: config["threads"]
    resources:
        **rule_resources("compute_sd_fim"),
    log:
        "logs/compute_sd_fim/{sdmodel}.log",
    script:
        "../workflow_scripts/compute_sd_fim.py"


rule forget_sd:
    input:
        model=lambda w: sd_model_index(SD["base"]),
        fisher=lambda w: f"{SD_RESULTS}/fim/{SD['base']}.pt",
        replay=lambda w: f"{SD_RESULTS}/replay/{SD['base']}.pt",
        surrogate=f"{SD_RESULTS}/{{sdexp}}/surrogate.pt",
    output:
        unet=f"{SD_RESULTS}/{{sdexp}}/sa/unet.pt",
        history=f"{SD_RESULTS}/{{sdexp}}/sa/history.json",
    params:
        sa=lambda w: SD_EXPERIMENTS[w.sdexp]["sa"],
        forget_prompts=lambda w: SD_EXPERIMENTS[w.sdexp]["forget_prompts"],
        resolution=SD.get("resolution"),
        gpus=rule_resources("forget_sd")["gpu"],
        device=config["device"],
        checkpoint_every=config["checkpoint_every"],
        code=code_version("sa/sd/pipeline.py", "sa/forget.py", "sa/training.py"),
    threads: config["threads"]
    resources:
        **rule_resources("forget_sd"),
    log:
        "logs/forget_sd/{sdexp}.log",
    script:
        "../workflow_scripts/forget_sd.py"


rule erase_sd:
    input:
        model=lambda w: sd_model_index(SD["base"]),
    output:
        unet=f"{SD_RESULTS}/{{sdexp}}/esd/unet.pt",
        history=f"{SD_RESULTS}/{{sdexp}}/esd/history.json",
    params:
        esd=lambda w: SD_EXPERIMENTS[w.sdexp]["esd"],
        forget_prompts=lambda w: SD_EXPERIMENTS[w.sdexp]["forget_prompts"],
        sampling=SD.get("sampling"),
        resolution=SD.get("resolution"),
        device=config["device"],
        checkpoint_every=config["checkpoint_every"],
        code=code_version("sa/sd/pipeline.py", "sa/sd/esd.py", "sa/training.py"),
    threads: config["threads"]
    resources:
        **rule_resources("erase_sd"),
    log:
        "logs/erase_sd/{sdexp}.log",
    script:
        "../workflow_scripts/erase_sd.py"


rule generate_sd_images:
    input:
        unpack(sd_images_inputs),
    output:
        directory(f"{SD_RESULTS}/{{sdexp}}/{{run}}/{{evaluation}}/images"),
    params:
        run=lambda w: sd_run(w.sdexp, w.run),
        evaluation=sd_evaluation,
        sampling=SD.get("sampling"),
        resolution=SD.get("resolution"),
        device=config["device"],
        code=code_version(*SD_RULES_CODE),
    threads: config["threads"]
    resources:
        **rule_resources("generate_sd_images"),
    log:
        "logs/generate_sd_images/{sdexp}/{run}/{evaluation}.log",
    script:
        "../workflow_scripts/generate_sd_images.py"


def sd_evaluation_inputs(w):
    """The images, and the celebrity detector for Table 2 (its marker, so the download stage chains in)."""
    inputs = {"images": f"{SD_RESULTS}/{w.sdexp}/{w.run}/{w.evaluation}/images"}
    if sd_evaluation(w)["table"] == "table2":
        inputs["gcd"] = gcd_marker(SD["gcd_dir"])
    return inputs


rule evaluate_sd_images:
    input:
        unpack(sd_evaluation_inputs),
    output:
        metrics=f"{SD_RESULTS}/{{sdexp}}/{{run}}/{{evaluation}}/metrics.json",
        detections=f"{SD_RESULTS}/{{sdexp}}/{{run}}/{{evaluation}}/detections.json",
    params:
        evaluation=sd_evaluation,
        gcd_dir=SD.get("gcd_dir"),
        device=config["device"],
        code=code_version("sa/sd/nudity.py", "sa/sd/celebrity.py"),
    threads: config["threads"]
    resources:
        **rule_resources("evaluate_sd_images"),
    log:
        "logs/evaluate_sd_images/{sdexp}/{run}/{evaluation}.log",
    script:
        "../workflow_scripts/evaluate_sd_images.py"


rule plot_sd_samples:
    input:
        images=lambda w: [f"{SD_RESULTS}/{w.sdexp}/{run}/{w.evaluation}/images" for run in SD_EXPERIMENTS[w.sdexp]["runs"]],
    output:
        report(f"{RESULTS}/figures/sd/{{sdexp}}/{{evaluation}}.png", caption="../report/sd_samples.rst",
               category="Stable Diffusion samples"),
    params:
        labels=lambda w: [sd_run_label(w.sdexp, run) for run in SD_EXPERIMENTS[w.sdexp]["runs"]],
        prompts=SD.get("grid_prompts"),
        blur=lambda w: not SD["show_nudity"] and sd_evaluation(w)["table"] != "table2",
        title=lambda w: f"{w.sdexp}: {w.evaluation}",
    resources:
        **rule_resources("plot_sd_samples"),
    log:
        "logs/plot_sd_samples/{sdexp}/{evaluation}.log",
    script:
        "../workflow_scripts/plot_sd_samples.py"


rule make_sd_tables:
    input:
        metrics=[f"{SD_RESULTS}/{r['exp']}/{r['run']}/{r['evaluation']}/metrics.json" for r in SD_EVALUATIONS],
        paper=Path(workflow.basedir) / "config" / "paper_results.yaml",
    output:
        [report(f"{RESULTS}/tables/{table}.{ext}", caption="../report/sd_tables.rst", category="Tables 2-4")
         for table in SD_TABLES for ext in ("md", "csv")],
        provenance=f"{RESULTS}/tables/sd_tables.provenance.json",
    params:
        rows=SD_EVALUATIONS,
        tables=SD_TABLES,
        config=config,
        code=code_version("sa/sd/tables.py", "sa/tables.py"),
    resources:
        **rule_resources("make_sd_tables"),
    log:
        "logs/make_sd_tables.log",
    script:
        "../workflow_scripts/make_sd_tables.py"
