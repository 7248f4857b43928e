"""Each method against doing nothing, for the forest plot: the paired per-seed difference from the imbalanced
run, its 95% t-interval, the verdict of the paired tests with Holm's correction over the methods, and the smallest
difference each test would have detected."""

from tabulate import tabulate

from .labels import METRIC_LABELS
from .stats import spread, tested
from .tables import verdict_words

REFERENCE = "imbalanced"
METRICS = ("minority_recall", "balanced_accuracy")


def forest_rows(grouped):
    """A row per method and metric with seeds shared with REFERENCE's runs; [] without REFERENCE."""
    if REFERENCE not in grouped:
        return []
    rows = []
    for metric in METRICS:
        methods = [method for method in grouped if method != REFERENCE]
        specs = [{"id": f"{method}_beats_{REFERENCE}_{metric}", "text": f"{method} beats {REFERENCE}", "metric": metric,
                  "better": method, "worse": REFERENCE} for method in methods]
        for method, claim in zip(methods, tested("forest", specs, grouped, [])):
            if claim["verdict"].startswith("not run"):
                continue
            seeds = sorted(set(grouped[method]) & set(grouped[REFERENCE]))
            differences = [grouped[method][s][metric] - grouped[REFERENCE][s][metric] for s in seeds]
            difference, _, half_width = spread(differences)
            rows.append({"metric": metric, "method": method, "n": len(seeds), "difference": difference,
                         "half_width": half_width, "verdict": claim["verdict"],
                         "detectable_difference": claim["detectable_difference"]})
    return rows


def forest_table(rows):
    """The forest plot's numbers, a row per method: each metric's paired difference from REFERENCE and its verdict."""
    methods = list(dict.fromkeys(row["method"] for row in rows))
    cells = []
    for method in methods:
        mine = {row["metric"]: row for row in rows if row["method"] == method}
        line = [method, max(row["n"] for row in mine.values())]
        for metric in METRICS:
            row = mine.get(metric)
            line += ["", ""] if row is None else [_difference(row), verdict_words({**row, "metric": metric})]
        cells.append(line)
    headers = ["method", "n"] + [f"{METRIC_LABELS[metric]} {what}" for metric in METRICS
                                 for what in ("difference (points)", "verdict")]
    return tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True)


def _difference(row):
    interval = "" if row["half_width"] != row["half_width"] else f" ± {100 * row['half_width']:.1f}"
    return f"{100 * row['difference']:+.1f}{interval}"
