"""The report's tables, from the grouped runs and the tested claims: the paper's table, the published numbers
beside ours, the claims and the generators' scores."""

import numpy as np
from tabulate import tabulate

from ..gan.collapse import MARGIN as COLLAPSE_MARGIN, collapsed
from .labels import METRIC_LABELS, dataset_line
from .summary import csv_value, records_csv
from .records import commits_line, machines_line
from .stats import spread


METRICS = ("accuracy", "minority_recall", "balanced_accuracy", "gmean", "minority_f1", "macro_f1")
# On a test set whose classes differ in size, accuracy mostly counts the large classes: such a table leads with these.
IMBALANCED_TEST_FIRST = ("balanced_accuracy", "macro_f1", "minority_recall", "minority_f1", "accuracy", "gmean")
# With two classes, the minority's precision and its average precision from the scores, as for a detector.
BINARY_EXTRA = ("minority_precision", "minority_average_precision")
LABELS = METRIC_LABELS
IMBALANCED_TEST = 1.5  # the largest test class over the smallest above which the test set counts as imbalanced


def table_metrics(runs):
    """The main table's metrics, in order, for these runs' test set."""
    counts = [scores["support"] for scores in runs[0]["per_class"].values()]
    metrics = IMBALANCED_TEST_FIRST if max(counts) > IMBALANCED_TEST * max(1, min(counts)) else METRICS
    return metrics + (BINARY_EXTRA if len(counts) == 2 else ())


def paper_table(grouped, metrics=METRICS):
    rows = []
    for method, seeds in grouped.items():
        row = {"method": method, "n": len(seeds), "seeds": " ".join(map(str, seeds))}
        for metric in metrics:
            row[metric], row[f"{metric}_std"], row[f"{metric}_ci95"] = spread(
                [r.get(metric, np.nan) for r in seeds.values()])
        rows.append(row)
    return rows


def per_class_recall(grouped):
    """(headers, rows): each method's mean recall over seeds on each class, in percent."""
    classes = list(next(iter(next(iter(grouped.values())).values()))["per_class"])
    rows = [[method, *(f"{100 * np.mean([r['per_class'][name]['recall'] for r in seeds.values()]):.1f}" for name in classes)]
            for method, seeds in grouped.items()]
    return ["method", *classes], rows


def cell(row, metric):
    mean, std, half = (100 * row[k] for k in (metric, f"{metric}_std", f"{metric}_ci95"))
    if np.isnan(mean):
        return ""
    if np.isnan(std):
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {std:.2f} [{mean - half:.2f}, {mean + half:.2f}]"


SOURCES = (("table", "paper"), ("notebook", "notebook"))


def published_sources(reference):
    """(column name, {method: row}) for each source of published numbers the reference holds."""
    return [(name, reference[key]["rows"]) for key, name in SOURCES if key in reference]


def paper_vs_reproduced(rows, reference):
    """One line per method that a source reports: each source's accuracy and recall beside ours."""
    sources = published_sources(reference)
    table = []
    for row in rows:
        published = [numbers.get(row["method"]) for _, numbers in sources]
        if not any(published):
            continue
        label = reference["table"]["rows"].get(row["method"], {}).get("paper_label", "")
        cells = [row["method"], label]
        for metric, scale in (("accuracy", "{:.2f}"), ("minority_recall", "{:.1f}")):
            cells += [scale.format(100 * theirs[metric]) if theirs else "" for theirs in published]
            cells.append(f"{100 * row[metric]:.2f}")
        table.append(cells)
    names = [name for name, _ in sources]
    headers = (["method", "paper's row"] + [f"{name} acc." for name in names] + ["our acc."]
               + [f"{name} recall" for name in names] + ["our recall"])
    return headers, table


def environment_line(runs):
    first = runs[0]
    seeds = sorted({run["seed"] for run in runs})
    return (f"{dataset_line(first)}; "
            f"{cut_words(first['params']['data'], ', '.join(first['minority']))[0]}; seeds {seeds}; "
            f"{machines_line(runs)}; torch {first['environment']['packages']['torch']}; {commits_line(runs)}")


def cut_words(data, minority):
    """How the train set was cut, short and as a phrase."""
    profile = data["profile"]
    if profile == "minority":
        return f"minority {minority} at ratio {data['ratio']}", f"the {minority} class cut to ratio {data['ratio']}"
    cut = f"the {profile} profile at imbalance factor {data['imbalance_factor']:g}"
    return f"{cut}, minority {minority}", f"{cut} (minority: {minority})"


def generator_tables(qualities):
    """How long each generator trained and what it scores (its last grid is figures.generator_grids')."""
    trainings, scores, collapses = [], [], {}
    signalled = any(stage.get("sample_ssim") is not None for quality in qualities
                    for stages_of_class in quality.get("generators", {}).values() for stage in stages_of_class)
    for quality in qualities:
        for name, stages_of_class in quality.get("generators", {}).items():
            for stage in stages_of_class:
                row = [quality["variant"], name, stage["label"], stage["images"], stage["epochs"], stage["steps"]]
                trainings.append(row + ([similarity_cell(stage)] if signalled else []))
                if stage.get("sample_ssim") is not None and collapsed(stage["sample_ssim"], stage["real_ssim"]):
                    collapses[stage["label"]] = similarity_cell(stage)
        for name, score in quality["classes"].items():
            recognised = score.get("classified_as_class", {})
            scores.append([quality["variant"], name, f"{score['frechet_distance']:.1f}", f"{score['precision']:.3f}",
                           f"{score['recall']:.3f}", f"{score['memorization']['ratio']:.3f}",
                           percent(recognised.get("synthetic")), percent(recognised.get("heldout"))])
    net = qualities[0]["feature_net"]
    headers = ["method", "class", "training", "images", "epochs", "steps"]
    return [
        "Trainings behind each GAN method's images (a step is one D and one G update on a batch)"
        + (", with the collapse signal: the last epoch's samples' mean pairwise SSIM (the real images' in brackets)"
           if signalled else "") + ":",
        tabulate(trainings, headers=headers + (["samples' SSIM (real)"] if signalled else []), tablefmt="github"),
        *([collapse_line(collapses)] if collapses else []),
        f"Scores on the penultimate features of a {net['classifier']} classifier trained on the full train set "
        f"(test accuracy {100 * net['test_accuracy']:.2f}%), against the held-out test images of the class. FD is the "
        "FID formula on these features, not comparable with Inception FID. \"called the class\": the share of images "
        "that classifier assigns to the class, for the generated images and, as the yardstick, held-out real ones.",
        tabulate(scores, headers=["method", "class", "FD", "precision", "recall", "memorization ratio",
                                  "generated called the class", "real called the class"], tablefmt="github"),
    ]


def feature_generator_table(runs):
    """The feature-space generators' scores (decoupled runs that record them), mean over seeds, or [] without any."""
    scored = {}
    for run in runs:
        for name, score in run.get("feature_generator", {}).items():
            scored.setdefault((run["classifier"], run["method"], name), []).append(score)
    if not scored:
        return []
    rows = [[classifier, method, name, len(scores), *(f"{np.mean([s[key] for s in scores]):{form}}" for key, form in
                                                      (("frechet_distance", ".1f"), ("precision", ".3f"), ("recall", ".3f")))]
            for (classifier, method, name), scores in sorted(scored.items())]
    return ["Feature-space generators: the synthetic features of each minority class against the same run's backbone's "
            "features of its held-out test images, mean over seeds (FD here is on the run's own backbone, not the "
            "feature net: compare these rows with each other):",
            tabulate(rows, headers=["classifier", "method", "class", "n", "FD", "precision", "recall"], tablefmt="github")]


def similarity_cell(stage):
    return f"{stage['sample_ssim']:.2f} ({stage['real_ssim']:.2f})"


def collapse_line(collapses):
    named = "; ".join(f"{label} {cell}" for label, cell in collapses.items())
    return (f"**Warning: collapsed generators** (samples more alike than real images by over {COLLAPSE_MARGIN}): "
            f"{named}. What their methods score is about a collapsed generator, not the method.")


def percent(value):
    return "" if value is None else f"{100 * value:.1f}%"


def _p(value):
    return "" if value is None else f"{value:.4f}"


def claims_table(claims, source_names):
    return tabulate([[c["claim"], *[c[name] for name in source_names], c["n"],
                      "" if c["mean_difference"] is None else f"{_points(c) * c['mean_difference']:+.2f}",
                      _p(c["p_value"]), _p(c["p_holm"]), _p(c["p_opposite"]), _p(c.get("p_opposite_holm")),
                      verdict_words(c)]
                     for c in claims],
                    headers=["claim", *source_names, "n", "difference (points)", "p-value", "Holm p", "opposite p",
                             "opposite Holm p", "verdict"],
                    tablefmt="github", disable_numparse=True)


def verdict_words(claim):
    """The verdict; where not significant, the smallest difference its test would have detected (80% power)."""
    size = claim.get("detectable_difference")
    if claim["verdict"] != "not significant" or size is None:
        return claim["verdict"]
    unit = " points" if _points(claim) == 100 else ""
    return (f"not significant; a difference under {_points(claim) * size:.1f}{unit} would not be detected "
            f"with {claim['n']} seeds")


def _points(claim):
    """Percentage points for the classification metrics (fractions); a generator's distance as it is."""
    return 100 if claim["metric"] in METRIC_LABELS else 1


def rows_csv(rows):
    return records_csv({k: csv_value(v) for k, v in row.items()} for row in rows)
