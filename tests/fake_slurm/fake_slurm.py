"""Stand-ins for Slurm's commands, for the tests: `sbatch` runs the job at once on this machine.

They answer what snakemake-executor-plugin-slurm parses: the job id from `sbatch --parsable`,
`<id>|<state>` lines from `sacct`/`squeue --name <run>`, the accounts from `sacctmgr`, MinJobAge
from `scontrol show config`. Their state lives in $FAKE_SLURM_DIR:

    sbatch.jsonl   one record per submission: its arguments, the job id, the job's TORCH_HOME
    srun.jsonl     one record per job step (the executor starts the rule inside the job with srun)
    jobs/<id>      <job name>|<state>
"""
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_SLURM_DIR"])
ACCOUNTS = os.environ.get("FAKE_SLURM_ACCOUNTS", "testacct").split(",")


def record(log: str, entry: dict) -> None:
    with open(STATE / f"{log}.jsonl", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(json.dumps(entry) + "\n")


def option(args: list[str], name: str) -> str | None:
    """The value of `name value` or `name=value` in args."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1:]
    return None


def new_job_id() -> str:
    with open(STATE / "last_job_id", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        job_id = int(handle.read() or 1000) + 1
        handle.seek(0)
        handle.truncate()
        handle.write(str(job_id))
    return str(job_id)


def set_state(job_id: str, name: str, state: str) -> None:
    (STATE / "jobs").mkdir(exist_ok=True)
    (STATE / "jobs" / job_id).write_text(f"{name}|{state}")


def job_states(name: str | None) -> str:
    lines = []
    for path in sorted((STATE / "jobs").glob("*")):
        job_name, state = path.read_text().split("|")
        if name is None or job_name == name:
            lines.append(f"{path.name}|{state}\n")
    return "".join(lines)


def sbatch(args: list[str]) -> int:
    """Run the --wrap command now, in the -D folder, its output into --output; print the job id."""
    job_id, name, command = new_job_id(), option(args, "--job-name"), option(args, "--wrap")
    workdir = Path(option(args, "-D") or ".")
    record("sbatch", {"args": args, "job_id": job_id, "torch_home": os.environ.get("TORCH_HOME")})
    env = {**os.environ, "SLURM_JOB_ID": job_id}
    if option(args, "--gpus"):
        env["SLURM_GPUS"] = option(args, "--gpus")
    set_state(job_id, name, "RUNNING")
    log = workdir / option(args, "--output").replace("%j", job_id)
    with open(log, "w") as out:
        code = subprocess.run(["/bin/sh", "-c", command], cwd=workdir, env=env, stdout=out,
                              stderr=subprocess.STDOUT).returncode
    set_state(job_id, name, "COMPLETED" if code == 0 else "FAILED")
    print(job_id)
    return 0


def srun(args: list[str]) -> int:
    """Run the command after the options, in place."""
    record("srun", {"args": args, "job_id": os.environ.get("SLURM_JOB_ID")})
    command = next(i for i, arg in enumerate(args) if not arg.startswith("-"))
    os.execvp(args[command], args[command:])


def sacct(args: list[str]) -> int:
    if "--name" in args:                        # job states: sacct -X --parsable2 ... --name <run>
        sys.stdout.write(job_states(option(args, "--name")))
    elif "-j" not in args:                      # the account of recent jobs: sacct -nu <user> -o Account
        print(ACCOUNTS[0])
    return 0                                    # sacct -j <id>.<step> --format=Reason: no reason


def squeue(args: list[str]) -> int:
    sys.stdout.write(job_states(option(args, "--name")))
    return 0


def scancel(args: list[str]) -> int:
    record("scancel", {"args": args})
    return 0


def scontrol(args: list[str]) -> int:
    print("MinJobAge               = 300 sec\nMaxArraySize            = 1001")
    return 0


def sinfo(args: list[str]) -> int:
    print("PARTITION\ncpu*\ngpu")
    return 0


def accounts(args: list[str]) -> int:
    print("\n".join(ACCOUNTS))
    return 0


COMMANDS = {"sbatch": sbatch, "srun": srun, "sacct": sacct, "squeue": squeue, "scancel": scancel,
            "scontrol": scontrol, "sinfo": sinfo, "sacctmgr": accounts, "sshare": accounts}

if __name__ == "__main__":
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
