"""The paper's table, paper vs reproduced, and the paper's claims tested over seeds, from results files alone.

Reads OUT/runs/*/metrics.json; needs no model and no GPU. Runs are grouped by classifier, so the
paper's weak-classifier regime (keras_cnn) and the strong one (fast) each get their own tables.
"""

import json
from pathlib import Path

import numpy as np
import yaml
from scipy import stats
from tabulate import tabulate

from . import atomic, figures
from .errors import SmateError
from .summary import csv_value, records_csv

METRICS = ("accuracy", "minority_recall", "balanced_accuracy", "gmean", "minority_f1")
LABELS = {"accuracy": "test accuracy", "minority_recall": "minority recall", "balanced_accuracy": "balanced acc.",
          "gmean": "G-mean", "minority_f1": "minority F1"}
ALPHA = 0.05


def load_runs(results):
    paths = sorted(Path(results).glob("runs/*/metrics.json"))
    if not paths:
        raise SmateError(f"no runs under '{results}/runs/'; run `smate-bench run` (or dvc repro) first")
    return [json.loads(path.read_text()) for path in paths]


def load_reference(path):
    path = Path(path)
    if not path.is_file():
        raise SmateError(f"'{path}' is missing; it holds the paper's numbers (see paper/reference.yaml in the repository)")
    return yaml.safe_load(path.read_text())


def by_method(runs):
    """{method: {seed: run}} in the order methods first appear in the runs' params."""
    order = runs[0]["params"]["methods"] + runs[0]["params"].get("gan_methods", [])
    grouped = {}
    for run in sorted(runs, key=lambda r: (order.index(r["method"]) if r["method"] in order else len(order), r["seed"])):
        grouped.setdefault(run["method"], {})[run["seed"]] = run
    return grouped


def spread(values):
    """Mean, sample std and the 95% t-interval half-width of a list of per-seed values."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float(values.mean()), float("nan"), float("nan")
    std = values.std(ddof=1)
    return float(values.mean()), float(std), float(stats.t.ppf(0.975, n - 1) * std / np.sqrt(n))


def paper_table(grouped):
    rows = []
    for method, seeds in grouped.items():
        row = {"method": method, "n": len(seeds), "seeds": " ".join(map(str, seeds))}
        for metric in METRICS:
            row[metric], row[f"{metric}_std"], row[f"{metric}_ci95"] = spread([r[metric] for r in seeds.values()])
        rows.append(row)
    return rows


def _cell(row, metric):
    mean, std, half = (100 * row[k] for k in (metric, f"{metric}_std", f"{metric}_ci95"))
    if np.isnan(std):
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {std:.2f} [{mean - half:.2f}, {mean + half:.2f}]"


def paper_vs_reproduced(rows, reference):
    paper = reference["table"]["rows"]
    table = []
    for row in rows:
        if row["method"] not in paper:
            continue
        theirs = paper[row["method"]]
        table.append([
            row["method"], theirs["paper_label"],
            f"{100 * theirs['accuracy']:.1f}", f"{100 * row['accuracy']:.2f}", f"{100 * (row['accuracy'] - theirs['accuracy']):+.2f}",
            f"{100 * theirs['minority_recall']:.0f}", f"{100 * row['minority_recall']:.2f}",
            f"{100 * (row['minority_recall'] - theirs['minority_recall']):+.2f}",
        ])
    return table


def test_claim(claim, grouped):
    """A one-sided paired t-test over the seeds both methods ran: does `better` beat `worse` on `metric`?"""
    better, worse = grouped.get(claim["better"]), grouped.get(claim["worse"])
    result = {"id": claim["id"], "claim": claim["text"], "metric": claim["metric"], "better": claim["better"], "worse": claim["worse"]}
    if not better or not worse:
        missing = claim["better"] if not better else claim["worse"]
        return {**result, "n": 0, "mean_difference": None, "p_value": None, "verdict": f"not run ({missing} has no runs)"}
    seeds = sorted(set(better) & set(worse))
    a = np.array([better[s][claim["metric"]] for s in seeds])
    b = np.array([worse[s][claim["metric"]] for s in seeds])
    difference = float((a - b).mean())
    p_value = float(stats.ttest_rel(a, b, alternative="greater").pvalue) if len(seeds) > 1 and np.any(a != b) else None
    if difference <= 0:
        verdict = "does not hold"
    elif p_value is not None and p_value < ALPHA:
        verdict = "holds"
    else:
        verdict = "not significant"
    return {**result, "n": len(seeds), "mean_difference": difference, "p_value": p_value, "verdict": verdict}


def _environment_line(runs):
    first = runs[0]
    device = first["environment"]["device"]
    seeds = sorted({run["seed"] for run in runs})
    return (f"Dataset: {first['dataset']['kind']} '{first['dataset']['root']}' (sha256 {first['dataset']['sha256'][:12]}); "
            f"minority {', '.join(first['minority'])} at ratio {first['params']['data']['ratio']}; seeds {seeds}; "
            f"device {device['name']} ({device['type']}); torch {first['environment']['packages']['torch']}; "
            f"commit {first['environment']['git_commit']}")


def build_report(results, reference_path, out=None, reproduction=None):
    """Write the report for every classifier regime found in the results folders (one path or a list)
    to `out` (default: the first folder's report/); with `reproduction`, also write there what of the
    paper holds, for paper/REPRODUCTION.md."""
    folders = [Path(results)] if isinstance(results, (str, Path)) else [Path(r) for r in results]
    runs = [run for folder in folders for run in load_runs(folder)]
    reference = load_reference(reference_path)
    out = Path(out) if out else folders[0] / "report"
    sections, findings, claims_csv = [], [], []
    for regime in sorted({run["classifier"] for run in runs}):
        section, finding, claims = _regime(regime, [run for run in runs if run["classifier"] == regime], reference, out)
        sections.append(section)
        findings.append(finding)
        claims_csv += [{"classifier": regime, **claim} for claim in claims]
    with_gans = [folder for folder in folders if (folder / "gan").is_dir()]
    generator_figures = figures.draw_generators(with_gans[0], out / "figures") if with_gans else []
    if generator_figures:
        sections.append("## Generators\n\n" + "\n".join(f"![{name}](figures/{name}.png)" for name in generator_figures))
    markdown = "# smate-bench report\n\n" + "\n\n".join(sections) + "\n"
    atomic.write_text(out / "report.md", markdown)
    atomic.write_text(out / "claims.csv", records_csv(claims_csv))
    if reproduction:
        sources = ", ".join(f"`{folder}`" for folder in folders)
        atomic.write_text(reproduction, f"# Reproducing SMate: what holds\n\nGenerated by `smate-bench report` from "
                          f"{sources}; do not edit by hand.\n\n" + "\n\n".join(findings) + "\n")
    print(markdown)
    return markdown


def _regime(regime, runs, reference, out):
    """One classifier's report section, its findings for REPRODUCTION.md, and its tested claims."""
    grouped = by_method(runs)
    rows = paper_table(grouped)
    headers = ["method", "n"] + [LABELS[m] for m in METRICS]
    cells = [[row["method"], row["n"]] + [_cell(row, m) for m in METRICS] for row in rows]
    atomic.write_text(out / f"paper_table_{regime}.csv", _rows_csv(rows))
    atomic.write_text(out / f"paper_table_{regime}.tex",
                      tabulate(cells, headers=headers, tablefmt="latex_booktabs", disable_numparse=True) + "\n")
    claims = [test_claim(claim, grouped) for claim in reference["claims"]]
    drawn = figures.draw_runs([run for seeds in grouped.values() for run in seeds.values()], out / "figures" / regime)
    held = sum(claim["verdict"] == "holds" for claim in claims)
    head = [f"## Classifier: {regime}", _environment_line(runs), f"{held} of the paper's {len(claims)} claims hold with this classifier."]
    comparison = [
        "### Paper vs reproduced",
        f"The paper ran each method once with a Keras CNN ({reference['table']['source']}); ours are means over seeds.",
        tabulate(paper_vs_reproduced(rows, reference), tablefmt="github", disable_numparse=True, headers=[
            "method", "paper's row", "paper acc.", "our acc.", "difference", "paper recall", "our recall", "difference"]),
        "### The paper's claims",
        f"One-sided paired t-test over seeds; holds when the mean difference is positive and p < {ALPHA}.",
        tabulate([[c["claim"], c["n"], "" if c["mean_difference"] is None else f"{100 * c['mean_difference']:+.2f}",
                   "" if c["p_value"] is None else f"{c['p_value']:.4f}", c["verdict"]] for c in claims],
                 headers=["claim", "n", "difference (points)", "p-value", "verdict"], tablefmt="github", disable_numparse=True),
    ]
    table = ["Cells: mean ± sample std [95% t-interval] over seeds, in percent; n = seeds.",
             tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True)]
    figure_links = "### Figures\n\n" + "\n".join(f"![{name}](figures/{regime}/{name}.png)" for name in drawn)
    # REPRODUCTION.md gets the findings; the report puts the full table between the head and the comparison.
    findings = "\n\n".join(head + comparison)
    section = "\n\n".join(head + table + comparison + [figure_links])
    return section, findings, claims


def _rows_csv(rows):
    return records_csv({k: csv_value(v) for k, v in row.items()} for row in rows)
