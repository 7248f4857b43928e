"""Classification metrics for one run, with the minority classes singled out."""

import numpy as np
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import average_precision_score, balanced_accuracy_score, confusion_matrix, precision_recall_fscore_support


def classification_metrics(y_true, y_pred, classes, minority_ids, scores=None):
    """Accuracy, per-class recall and precision, minority recall/precision/F1 (mean over minority
    classes), balanced accuracy, macro F1, G-mean and the confusion matrix (rows: true, columns:
    predicted); with `scores` (N x C class probabilities), the minority's average precision too: the
    area under its one-against-the-rest precision-recall curve, which ranks by score, not by label."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    labels = np.arange(len(classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0.0
    )
    minority = list(minority_ids)
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "gmean": float(geometric_mean_score(y_true, y_pred, labels=labels, average="multiclass")),
        "minority_recall": float(recall[minority].mean()),
        "minority_precision": float(precision[minority].mean()),
        "minority_f1": float(f1[minority].mean()),
        "macro_f1": float(f1.mean()),
        **({} if scores is None else {"minority_average_precision": minority_average_precision(y_true, scores, minority)}),
        "per_class": {
            name: {"recall": float(recall[i]), "precision": float(precision[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(classes)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def minority_average_precision(y_true, scores, minority_ids):
    """The mean over the minority classes of each one's average precision against the rest, from its scores."""
    y_true = np.asarray(y_true)
    scores = np.asarray(scores)
    return float(np.mean([average_precision_score(y_true == c, scores[:, c]) for c in minority_ids]))
