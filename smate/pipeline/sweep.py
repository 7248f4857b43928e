"""The sweeps: the sweep's methods at each value of one param, each value an ordinary run in OUT/<name>-<value>/
(kept stage by stage by its content keys, so a killed sweep resumes where it stopped), then one table and one
figure of minority recall and balanced accuracy against the value. `sweep.over: ratio` varies the minority ratio
(the imbalance); `epochs` the classifier's epochs (the budget study: has training finished?)."""

import copy
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from .. import atomic
from ..config import select_methods
from ..report import figures
from ..errors import SmateError
from ..report import commits_line, configured_runs, load_runs, spread
from ..report.records import machine_of, machines_line
from .keys import lookup
from ..report.labels import METRIC_LABELS, dataset_line
from ..report.summary import csv_value, records_csv

METRICS = ("minority_recall", "balanced_accuracy", "accuracy")
PLAN = "sweep.json"


@dataclass(frozen=True)
class Swept:
    """What a sweep varies: the param, the params' list of its values, and how the report names it."""

    values_key: str  # the key under sweep: that lists the values
    folder: str  # OUT/<folder>-<value>/
    axis: str  # the figure's x label

    def param(self, config):
        return "data.ratio" if self.folder == "ratio" else f"classify.{config['classify']['model']}.epochs"


SWEPT = {
    "ratio": Swept("ratios", "ratio", "minority ratio (share of the minority's train images kept)"),
    "epochs": Swept("epochs", "epochs", "classifier epochs"),
}


def value_folder(out, over, value):
    return Path(out) / f"{SWEPT[over].folder}-{value:g}"


def value_config(config, over, value):
    """One value's run: the swept param set, and the sweep's methods as its methods."""
    swept = copy.deepcopy(config)
    *parents, key = SWEPT[over].param(config).split(".")
    node = swept
    for parent in parents:
        node = node[parent]
    node[key] = value
    swept["methods"] = select_methods(config["sweep"]["methods"], "sweep.methods")
    return swept


def check_sweep(config):
    from ..rebalance import FAMILIES, REBALANCERS

    sweep = config["sweep"]
    if sweep["over"] not in SWEPT:
        raise SmateError(f"sweep.over must be one of {', '.join(SWEPT)}, got {sweep['over']!r}")
    values = sweep[SWEPT[sweep["over"]].values_key]
    if sweep["over"] == "ratio":
        if config["data"]["profile"] != "minority":
            raise SmateError(f"the sweep varies data.ratio, which the {config['data']['profile']} profile does not read; "
                             "use --set data.profile=minority")
        if not values or not all(isinstance(r, (int, float)) and 0 < r <= 1 for r in values):
            raise SmateError(f"sweep.ratios must be a non-empty list of numbers in (0, 1], got {values!r}")
    elif not values or not all(isinstance(e, (int, float)) and not isinstance(e, bool) and e > 0 for e in values):
        raise SmateError(f"sweep.epochs must be a non-empty list of positive epoch counts, got {values!r}")
    unknown = [m for m in sweep["methods"] if m not in REBALANCERS and m not in FAMILIES and m != "all"]
    if not sweep["methods"] or unknown:
        raise SmateError(f"sweep.methods must name registered methods, got {unknown[0] if unknown else 'none'!r}; "
                         f"registered: {', '.join(REBALANCERS)}")
    missing = [m for m in select_methods(sweep["methods"], "sweep.methods") if m not in config["rebalance"]]
    if missing:
        raise SmateError(f"sweep method {missing[0]!r} has no entry under 'rebalance:' in the params; add `{missing[0]}: {{}}`")


def sweep_values(config):
    """The values of sweep.over that a sweep of these params runs, in order."""
    return sorted(set(config["sweep"][SWEPT[config["sweep"]["over"]].values_key]))


def run_sweep(config, out, progress=True, executor=None):
    """Every value's run (by `executor`, as pipeline.run_all takes it), then the sweep's report in OUT/report/."""
    from . import run as pipeline

    check_sweep(config)
    out = Path(out)
    over, values = config["sweep"]["over"], sweep_values(config)
    # The plan first, so that a sweep cut short can be reported on (and says which value is missing).
    atomic.write_json(out / PLAN, {"over": over, "values": values,
                                   "methods": select_methods(config["sweep"]["methods"], "sweep.methods"),
                                   "seeds": config["seeds"]})
    for index, value in enumerate(values, 1):
        print(f"sweep: {over} {value:g} ({index} of {len(values)})", flush=True)
        pipeline.run_all(value_config(config, over, value), value_folder(out, over, value), progress, executor=executor)
    return build_sweep_report(out)


def read_plan(out):
    """The sweep's plan; a ratio sweep's from before `over` existed lists its values as `ratios`."""
    plan = json.loads((Path(out) / PLAN).read_text())
    over = plan.get("over", "ratio")
    return {**plan, "over": over, "values": plan.get("values", plan.get("ratios"))}


def sweep_runs(out):
    """The plan, one row per run (the value, method, seed and the metrics), the runs, and a line for each kind of run
    left out."""
    plan = read_plan(out)
    over = plan["over"]
    rows, swept, left_out = [], [], []
    for value in plan["values"]:
        folder = value_folder(out, over, value)
        if not folder.is_dir():
            raise SmateError(f"the sweep in '{out}' has no runs at {over} {value:g} yet; rerun `smate-bench sweep` to finish it")
        runs, lines = configured_runs(folder, load_runs(folder))
        left_out += lines
        runs = [run for run in runs if run["method"] in plan["methods"]]
        swept += runs
        rows += [{over: value, "method": run["method"], "seed": run["seed"], **{m: run[m] for m in METRICS}}
                 for run in runs]
    rows.sort(key=lambda row: (row[over], plan["methods"].index(row["method"]), row["seed"]))
    return plan, rows, swept, left_out


def build_sweep_report(out, report_out=None):
    """The sweep's table (sweep.md, sweep_runs.csv) and figure, from the value folders' runs alone."""
    plan, rows, runs, left_out = sweep_runs(out)
    over = plan["over"]
    report_out = Path(report_out) if report_out else Path(out) / "report"
    atomic.write_text(report_out / "sweep_runs.csv", records_csv(
        {**{k: csv_value(v) for k, v in row.items()}, over: f"{row[over]:g}"} for row in rows))
    drawn = figures.sweep_figure(rows, plan["methods"], report_out / "figures", over, SWEPT[over].axis)
    cells = []
    for method in plan["methods"]:
        for value in plan["values"]:
            mine = [row for row in rows if row["method"] == method and row[over] == value]
            if mine:
                cells.append([method, f"{value:g}", len(mine)] + [_cell([row[m] for row in mine]) for m in METRICS])
    table = tabulate(cells, headers=["method", over, "n"] + [METRIC_LABELS[m] for m in METRICS], tablefmt="github",
                     disable_numparse=True)
    settling = [] if over != "epochs" else budget_lines(rows, plan)
    markdown = "\n\n".join([
        "# smate-bench sweep", *left_out, _setting_line(runs, plan), *machines_by_value(runs, plan),
        "Cells: mean ± sample std over seeds, in percent; n = seeds.", table, *settling,
        f"![{drawn}](figures/{drawn}.png)",
    ]) + "\n"
    atomic.write_text(report_out / "sweep.md", markdown)
    print(markdown)
    return markdown


def _cell(values):
    mean, std, _ = spread(values)
    return f"{100 * mean:.2f}" if len(values) < 2 else f"{100 * mean:.2f} ± {100 * std:.2f}"


def _setting_line(runs, plan):
    run = runs[0]
    data, classifier = run["params"]["data"], run["classifier"]
    recipe = run["params"]["classify"][classifier]
    per_class = data["max_train_per_class"]
    if plan["over"] == "ratio":
        cut, trained = f"the {', '.join(run['minority'])} class cut to each ratio", f"{recipe['epochs']} epochs, "
    else:
        cut, trained = f"the {', '.join(run['minority'])} class cut to {data['ratio']:g}", "each budget's epochs, "
    return (f"{dataset_line(run)}, "
            f"{'all' if per_class is None else f'the first {per_class:,}'} train images of each class, {cut}; "
            f"classifier {classifier} ({trained}batch {recipe['batch_size']}); seeds {plan['seeds']}; "
            f"{machines_line(runs)}; torch {run['environment']['packages']['torch']}; {commits_line(runs)}")


def machines_by_value(runs, plan):
    """Where the runs of a sweep mix machines: which trained each value's runs, since a change between two values
    then holds any effect of the machine and its precision too."""
    over = plan["over"]
    if len({machine_of(run) for run in runs}) < 2:
        return []
    cells = []
    for value in plan["values"]:
        mine = [run for run in runs if lookup(run["params"], SWEPT[over].param(run["params"])) == value]
        counts = Counter(machine_of(run) for run in mine)
        cells.append([f"{value:g}", ", ".join(f"{machine}: {count}" for machine, count in sorted(counts.items()))])
    return [f"The runs trained on more than one machine: a change between two values of {over} holds any effect of "
            "the machines and their precision as well.",
            tabulate(cells, headers=[over, "runs per machine"], tablefmt="github", disable_numparse=True)]


# Past the budget where each method's balanced accuracy moves by under this (a fraction) and the ranking holds,
# more epochs would not change what the runs say.
SETTLED = 0.01
# The difference in minority recall the presets' seeds must detect, and the level: Holm's strictest over the paper's
# eleven claims.
DETECT, CLAIMS = 0.10, 11


def budget_lines(rows, plan):
    """The budget study's reading: how far each method's balanced accuracy moved from each budget to the next and
    whether the ranking changed, the smallest budget past which neither happens, and the seeds that the spread of
    the paired differences in minority recall needs to detect DETECT at Holm's strictest level."""
    import numpy as np

    from ..report.stats import ALPHA, POWER, seeds_needed

    values = [v for v in plan["values"] if any(row["epochs"] == v for row in rows)]
    means = {v: {m: np.mean([r["balanced_accuracy"] for r in rows if r["epochs"] == v and r["method"] == m])
                 for m in plan["methods"] if any(r["epochs"] == v and r["method"] == m for r in rows)} for v in values}
    lines, settled_at, cells = [], None, []
    for low, high in zip(values, values[1:]):
        shared = [m for m in means[low] if m in means[high]]
        moved = max(abs(means[high][m] - means[low][m]) for m in shared)
        ranking = [sorted(shared, key=lambda m, v=v: -means[v][m]) for v in (low, high)]
        same = ranking[0] == ranking[1]
        cells.append([f"{low:g} -> {high:g}", f"{100 * moved:.2f}", "same" if same else "changed"])
        if settled_at is None and moved < SETTLED and same:
            settled_at = low
    if cells:
        lines += ["Between budgets: the largest change of a method's mean balanced accuracy (points), and whether the "
                  "methods' ranking on it changed:",
                  tabulate(cells, headers=["epochs", "largest change", "ranking"], tablefmt="github", disable_numparse=True)]
        lines.append(f"Settled: past {settled_at:g} epochs every method's balanced accuracy moves by under "
                     f"{100 * SETTLED:g} point and the ranking holds." if settled_at is not None else
                     f"Not settled within {values[-1]:g} epochs: no budget here is past which every method's balanced "
                     f"accuracy moves by under {100 * SETTLED:g} point with the ranking held.")
    largest = values[-1]
    level = ALPHA / CLAIMS
    needed = []
    at_largest = [row for row in rows if row["epochs"] == largest]
    methods = [m for m in plan["methods"] if any(r["method"] == m for r in at_largest)]
    recall = {(r["method"], r["seed"]): r["minority_recall"] for r in at_largest}
    for index, a in enumerate(methods):
        for b in methods[index + 1:]:
            seeds = sorted(s for (m, s) in recall if m == a and (b, s) in recall)
            if len(seeds) > 1:
                sd = float(np.std([recall[(a, s)] - recall[(b, s)] for s in seeds], ddof=1))
                seeds_to_detect = "no spread" if not sd > 0 else seeds_needed(sd, DETECT, level) or "over 200"
                needed.append([f"{a} - {b}", f"{100 * sd:.1f}", seeds_to_detect])
    if needed:
        lines += [f"Seeds needed at {largest:g} epochs to detect a {100 * DETECT:g}-point difference in minority recall "
                  f"with {POWER:.0%} power, one-sided at {level:.4f} (Holm's strictest level over the paper's {CLAIMS} "
                  f"claims), from the spread (sd, points) of each pair's paired differences over the seeds:",
                  tabulate(needed, headers=["pair", "sd of the differences", "seeds needed"], tablefmt="github",
                           disable_numparse=True)]
    return lines
