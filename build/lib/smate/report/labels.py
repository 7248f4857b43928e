"""The words a table uses for a run's metrics and its dataset, shared by the summary, the report and the sweep."""

METRIC_LABELS = {"accuracy": "test accuracy", "minority_recall": "minority recall", "minority_precision": "minority precision",
                 "minority_f1": "minority F1", "balanced_accuracy": "balanced acc.", "gmean": "G-mean",
                 "macro_f1": "macro F1", "minority_average_precision": "minority AP"}


def dataset_line(run):
    """Where a run's data came from, as every table's header names it."""
    dataset = run["dataset"]
    return f"Dataset: {dataset['kind']} '{dataset['root']}' (sha256 {dataset['sha256'][:12]})"
