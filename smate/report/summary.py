"""The summary table: one row per method, mean and spread over seeds, as CSV and Markdown, and DVC's metrics file."""

import csv
import io
import json
from pathlib import Path

import numpy as np
from tabulate import tabulate

from .. import atomic
from . import layout
from .labels import METRIC_LABELS, dataset_line
from .records import commits_line, machines_line

METRICS = ("accuracy", "minority_recall", "minority_precision", "minority_f1", "balanced_accuracy", "gmean", "macro_f1",
           "minority_average_precision")
# What `dvc metrics show` and `dvc metrics diff` list for each method (OUT/metrics.json, declared in dvc.yaml).
DVC_METRICS = ("accuracy", "balanced_accuracy", "minority_recall", "minority_f1")
COLUMNS = ["method", "n_seeds", "seeds"] + [f"{m}_{s}" for m in METRICS for s in ("mean", "std")] + ["train_seconds_mean"]


def summarize_runs(runs, methods):
    """Rows in `methods` order; std is the sample standard deviation (ddof=1), NaN for one seed."""
    rows = []
    for method in methods:
        mine = [run for run in runs if run["method"] == method]
        row = {"method": method, "n_seeds": len(mine), "seeds": " ".join(str(run["seed"]) for run in mine)}
        for metric in METRICS:
            # Runs made before a metric was recorded have none (NaN).
            values = np.array([run.get(metric, np.nan) for run in mine], dtype=float)
            row[f"{metric}_mean"] = float(values.mean())
            row[f"{metric}_std"] = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
        row["train_seconds_mean"] = float(np.mean([run["seconds"]["train"] for run in mine]))
        rows.append(row)
    return rows


def to_metrics(rows):
    """{method: {metric: {mean, std}}} for DVC_METRICS, std null for one seed (JSON has no NaN)."""
    def number(value):
        return None if np.isnan(value) else round(value, 6)

    return {row["method"]: {metric: {"mean": number(row[f"{metric}_mean"]), "std": number(row[f"{metric}_std"])}
                            for metric in DVC_METRICS} for row in rows}


def to_csv(rows):
    return records_csv([{key: csv_value(row[key]) for key in COLUMNS} for row in rows], COLUMNS)


def csv_value(value):
    return f"{value:.6f}" if isinstance(value, float) else value


def records_csv(records, fieldnames=None):
    """CSV text of dicts, columns in the first record's order unless given; empty for no records."""
    records = list(records)
    buffer = io.StringIO()
    if records:
        writer = csv.DictWriter(buffer, fieldnames=fieldnames or list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return buffer.getvalue()


def generators_markdown(reports):
    """The generator-quality table: one row per GAN method and minority class."""
    table = [
        [report["variant"], name, scores["n_synthetic"], f"{scores['frechet_distance']:.2f}",
         f"{scores['kernel_distance']:.4f} ± {scores['kernel_distance_std']:.4f}", f"{scores['precision']:.3f}",
         f"{scores['recall']:.3f}", f"{scores['memorization']['ratio']:.3f}"]
        for report in reports for name, scores in report["classes"].items()
    ]
    headers = ["method", "class", "n", "FD", "KD", "precision", "recall", "memorization ratio"]
    net = reports[0]["feature_net"]
    return (f"Generators, scored on the penultimate features of a {net['classifier']} classifier trained on the full "
            f"train set (test accuracy {100 * net['test_accuracy']:.2f}%) against the held-out test images of each "
            "class. FD and KD are the FID and KID formulas on these features, not comparable with Inception-based "
            "FID/KID. Memorization ratio: median pixel distance from a synthetic image to its nearest minority "
            "train image, over the same for held-out real images (well below 1 means copies).\n\n"
            + tabulate(table, headers=headers, tablefmt="github") + "\n")


def _split_words(data_seed):
    return "each seed's own draw of the kept images" if data_seed == "run" else f"split seed {data_seed}"


def to_markdown(rows, runs):
    first = runs[0]
    header = [
        f"{dataset_line(first)}, "
        f"minority {', '.join(first['minority'])}, ratio {first['params']['data']['ratio']}, {_split_words(first['params']['data']['seed'])}",
        f"Classifier: {first['classifier']}; {machines_line(runs)}; torch {first['environment']['packages']['torch']}; "
        f"{commits_line(runs)}",
        "Cells: mean ± sample std over seeds (n = number of seeds), in percent.",
    ]
    shown = ("accuracy", "minority_recall", "minority_f1", "balanced_accuracy", "macro_f1", "gmean")
    table = [[row["method"], row["n_seeds"], *(_pm(row, metric) for metric in shown), f"{row['train_seconds_mean']:.2f}"]
             for row in rows]
    headers = ["method", "n", *(METRIC_LABELS[metric] for metric in shown), "train s"]
    return "\n\n".join(header) + "\n\n" + tabulate(table, headers=headers, tablefmt="github") + "\n"


def _pm(row, metric):
    mean, std = 100 * row[f"{metric}_mean"], 100 * row[f"{metric}_std"]
    return f"{mean:.2f}" if np.isnan(std) else f"{mean:.2f} ± {std:.2f}"


def write_summary(rows, runs, out, generator_reports=()):
    atomic.write_text(layout.summary_path(out), to_csv(rows))
    atomic.write_text(Path(out) / "metrics.json", json.dumps(to_metrics(rows), indent=2) + "\n")
    markdown = to_markdown(rows, runs)
    if generator_reports:
        markdown += "\n" + generators_markdown(generator_reports)
    atomic.write_text(Path(out) / "summary.md", markdown)
    print(markdown)
