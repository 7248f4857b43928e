"""Loading the results a report reads: the runs, their generators' scores, the paper's numbers. The one place
that reads records made by older code, whose fields have changed since (profile, generator seeds, recipes)."""

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from ..config import generator_methods, plain_methods
from ..errors import SmateError
from . import layout


def load_runs(results):
    paths = sorted(layout.runs_dir(results).glob("*/metrics.json"))
    if not paths:
        raise SmateError(f"no runs under '{layout.runs_dir(results)}/'; run `smate-bench run` (or dvc repro) first")
    runs = [upgrade(json.loads(path.read_text())) for path in paths]
    qualities = {method: _quality(results, method) for method in {run["method"] for run in runs}}
    for run in runs:
        _add_generator_distance(run, qualities[run["method"]])
    return runs


def upgrade(run):
    """A run's record in today's shape, whatever code made it: runs made before one `methods` list held every
    method kept the generator methods in `gan_methods`, and runs made before profiles used the minority one."""
    params = run["params"]
    if "gan_methods" in params:
        params = {**params, "methods": params["methods"] + [m for m in params["gan_methods"] if m not in params["methods"]]}
        del params["gan_methods"]
    params["data"] = {"profile": "minority", **params["data"]}
    # Macro F1 is the mean of the per-class F1s the run recorded (its average precision needs scores it did not keep).
    if "macro_f1" not in run and "per_class" in run:
        run = {**run, "macro_f1": float(np.mean([scores["f1"] for scores in run["per_class"].values()]))}
    return {**run, "params": params}


def generator_seed(run):
    """The seed of the generators a generator method's run drew from; runs made before generators had seeds
    drew from the one generator of gan.seed."""
    return run.get("generator_seed", run["params"]["gan"]["seed"])


def _quality(results, method):
    path = layout.quality_path(results, method)
    return json.loads(path.read_text()) if path.is_file() else None


def _add_generator_distance(run, quality):
    """A generator method's run gains the Frechet distance of the images its own seed drew (the mean over the
    minority classes), which the claims comparing generators test seed by seed."""
    if quality is None:
        return
    by_class = [scores.get("frechet_distance_by_seed", {}).get(str(run["seed"])) for scores in quality["classes"].values()]
    if by_class and None not in by_class:
        run["generator_frechet_distance"] = float(np.mean(by_class))


def configured_runs(folder, runs):
    """The runs that `folder`'s summary.csv names (the configuration last summarised there) and that share its
    data and classifier parameters, and a line for each kind of run left out. Without a summary, every run."""
    summary = layout.summary_path(folder)
    if not summary.is_file():
        return runs, []
    with open(summary, newline="") as handle:
        named = {(row["method"], int(seed)) for row in csv.DictReader(handle) for seed in row["seeds"].split()}
    kept = [run for run in runs if (run["method"], run["seed"]) in named]
    unnamed = [run for run in runs if (run["method"], run["seed"]) not in named]
    if not kept:
        raise SmateError(f"none of the runs under '{folder}/runs/' is one that its summary.csv names; "
                         "rerun `smate-bench summarize` with the params of those runs")

    def setting(run):
        return json.dumps([data_setting(run["params"]["data"]), run["params"]["classify"]], sort_keys=True)

    common = Counter(map(setting, kept)).most_common(1)
    other = [run for run in kept if setting(run) != common[0][0]]
    left_out = []
    for runs_out, why in ((unnamed, "its summary.csv does not name (methods or seeds since removed)"),
                          (other, "were made with other data or classifier parameters than the rest")):
        if runs_out:
            names = ", ".join(f"{run['method']}-{run['seed']}" for run in runs_out)
            left_out.append(f"Left out of `{folder}`: {len(runs_out)} runs that {why}: {names}.")
    return [run for run in kept if run not in other], left_out


def data_setting(data):
    """The data params as they bear on a run: a profile's split ignores the other profiles' parameter."""
    unread = "imbalance_factor" if data["profile"] == "minority" else "ratio"
    return {key: value for key, value in data.items() if key != unread}


# The paper's numbers and claims, shipped inside the package so that a report needs no checkout.
PAPER_REFERENCE = Path(__file__).with_name("paper_reference.yaml")


def load_reference(path=None):
    """The paper's numbers: the file `path`, or the package's."""
    path = Path(path) if path else PAPER_REFERENCE
    if not path.is_file():
        raise SmateError(f"'{path}' is missing; leave out --reference for the paper's numbers that ship with smate-bench")
    return yaml.safe_load(path.read_text())


def by_method(runs):
    """{method: {seed: run}} in the order methods first appear in the runs' params."""
    params = runs[0]["params"]
    order = plain_methods(params) + generator_methods(params)
    grouped = {}
    for run in sorted(runs, key=lambda r: (order.index(r["method"]) if r["method"] in order else len(order), r["seed"])):
        grouped.setdefault(run["method"], {})[run["seed"]] = run
    return grouped


def machine_of(run):
    """Where a run's classifier trained and in which precision, e.g. "AMD EPYC (cpu, fp32)": bf16 autocast where
    classify.bf16 asked for it, or left it to the device (auto) and the device computes bf16 natively."""
    device, asked = run["environment"]["device"], run["params"]["classify"].get("bf16", "auto")
    bf16 = asked is True or (asked == "auto" and device.get("native_bf16", False))
    return f"{device['name']} ({device['type']}, {'bf16' if bf16 else 'fp32'})"


def machines_line(runs):
    """The machine the runs trained on, or each machine with its count of runs when they trained on several
    (our sessions draw CPUs with and without native bf16, so a folder resumed in another may mix them)."""
    counts = Counter(machine_of(run) for run in runs)
    if len(counts) == 1:
        return f"device {next(iter(counts))}"
    return "devices " + ", ".join(f"{machine} for {count} run{'s' if count > 1 else ''}"
                                  for machine, count in sorted(counts.items()))


def commits_line(runs):
    """The commit the runs came from, or every commit when they came from several."""
    commits = sorted({run["environment"]["git_commit"] or "unknown (no git checkout)" for run in runs})
    return f"commit {commits[0]}" if len(commits) == 1 else f"commits {', '.join(commits)}"
