"""Each method against doing nothing, for the forest plot: the paired per-seed difference from the imbalanced
run, its 95% t-interval, and the verdict of the paired tests with Holm's correction over the methods."""

from .stats import spread, tested

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
                         "half_width": half_width, "verdict": claim["verdict"]})
    return rows
