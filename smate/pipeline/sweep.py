"""The ratio sweep: the sweep's methods at each minority ratio, each ratio an ordinary run in
OUT/ratio-<r>/ (kept stage by stage by its content keys, so a killed sweep resumes where it stopped),
then one table and one figure of minority recall and balanced accuracy against the ratio."""

import copy
import json
from pathlib import Path

from tabulate import tabulate

from .. import atomic
from ..config import select_methods
from ..report import figures
from ..errors import SmateError
from ..report import commits_line, configured_runs, load_runs, spread
from ..report.labels import METRIC_LABELS, dataset_line
from ..report.summary import csv_value, records_csv

METRICS = ("minority_recall", "balanced_accuracy", "accuracy")
PLAN = "sweep.json"


def ratio_folder(out, ratio):
    return Path(out) / f"ratio-{ratio:g}"


def ratio_config(config, ratio):
    """One ratio's run: data.ratio set, and the sweep's methods as its methods."""
    ratio_run = copy.deepcopy(config)
    ratio_run["data"]["ratio"] = ratio
    ratio_run["methods"] = select_methods(config["sweep"]["methods"], "sweep.methods")
    return ratio_run


def check_sweep(config):
    from ..rebalance import FAMILIES, REBALANCERS

    sweep = config["sweep"]
    if config["data"]["profile"] != "minority":
        raise SmateError(f"the sweep varies data.ratio, which the {config['data']['profile']} profile does not read; "
                         "use --set data.profile=minority")
    if not sweep["ratios"] or not all(isinstance(r, (int, float)) and 0 < r <= 1 for r in sweep["ratios"]):
        raise SmateError(f"sweep.ratios must be a non-empty list of numbers in (0, 1], got {sweep['ratios']!r}")
    unknown = [m for m in sweep["methods"] if m not in REBALANCERS and m not in FAMILIES and m != "all"]
    if not sweep["methods"] or unknown:
        raise SmateError(f"sweep.methods must name registered methods, got {unknown[0] if unknown else 'none'!r}; "
                         f"registered: {', '.join(REBALANCERS)}")
    missing = [m for m in select_methods(sweep["methods"], "sweep.methods") if m not in config["rebalance"]]
    if missing:
        raise SmateError(f"sweep method {missing[0]!r} has no entry under 'rebalance:' in the params; add `{missing[0]}: {{}}`")


def run_sweep(config, out, progress=True, executor=None):
    """Every ratio's run (by `executor`, as pipeline.run_all takes it), then the sweep's report in OUT/report/."""
    from . import run as pipeline

    check_sweep(config)
    out = Path(out)
    ratios = sorted(set(config["sweep"]["ratios"]))
    # The plan first, so that a sweep cut short can be reported on (and says which ratio is missing).
    atomic.write_json(out / PLAN, {"ratios": ratios, "methods": select_methods(config["sweep"]["methods"], "sweep.methods"),
                                   "seeds": config["seeds"]})
    for index, ratio in enumerate(ratios, 1):
        print(f"sweep: ratio {ratio:g} ({index} of {len(ratios)})", flush=True)
        pipeline.run_all(ratio_config(config, ratio), ratio_folder(out, ratio), progress, executor=executor)
    return build_sweep_report(out)


def sweep_runs(out):
    """The plan, one row per run (ratio, method, seed and the metrics), the runs, and a line for each kind of run
    left out."""
    plan = json.loads((Path(out) / PLAN).read_text())
    rows, swept, left_out = [], [], []
    for ratio in plan["ratios"]:
        folder = ratio_folder(out, ratio)
        if not folder.is_dir():
            raise SmateError(f"the sweep in '{out}' has no runs at ratio {ratio:g} yet; rerun `smate-bench sweep` to finish it")
        runs, lines = configured_runs(folder, load_runs(folder))
        left_out += lines
        runs = [run for run in runs if run["method"] in plan["methods"]]
        swept += runs
        rows += [{"ratio": ratio, "method": run["method"], "seed": run["seed"], **{m: run[m] for m in METRICS}}
                 for run in runs]
    rows.sort(key=lambda row: (row["ratio"], plan["methods"].index(row["method"]), row["seed"]))
    return plan, rows, swept, left_out


def build_sweep_report(out, report_out=None):
    """The sweep's table (sweep.md, sweep_runs.csv) and figure, from the ratio folders' runs alone."""
    plan, rows, runs, left_out = sweep_runs(out)
    report_out = Path(report_out) if report_out else Path(out) / "report"
    atomic.write_text(report_out / "sweep_runs.csv", records_csv(
        {**{k: csv_value(v) for k, v in row.items()}, "ratio": f"{row['ratio']:g}"} for row in rows))
    drawn = figures.ratio_sweep(rows, plan["methods"], report_out / "figures")
    cells = []
    for method in plan["methods"]:
        for ratio in plan["ratios"]:
            mine = [row for row in rows if row["method"] == method and row["ratio"] == ratio]
            if mine:
                cells.append([method, f"{ratio:g}", len(mine)] + [_cell([row[m] for row in mine]) for m in METRICS])
    table = tabulate(cells, headers=["method", "ratio", "n"] + [METRIC_LABELS[m] for m in METRICS], tablefmt="github",
                     disable_numparse=True)
    markdown = "\n\n".join([
        "# smate-bench sweep", *left_out, _setting_line(runs, plan),
        "Cells: mean ± sample std over seeds, in percent; n = seeds.", table,
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
    return (f"{dataset_line(run)}, "
            f"{'all' if per_class is None else f'the first {per_class:,}'} train images of each class, the "
            f"{', '.join(run['minority'])} class cut to each ratio; classifier {classifier} ({recipe['epochs']} epochs, "
            f"batch {recipe['batch_size']}); seeds {plan['seeds']}; device {run['environment']['device']['name']} "
            f"({run['environment']['device']['type']}); torch {run['environment']['packages']['torch']}; "
            f"{commits_line(runs)}")
