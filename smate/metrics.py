"""Classification metrics for one run, with the minority classes singled out."""

import numpy as np
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, precision_recall_fscore_support


def classification_metrics(y_true, y_pred, classes, minority_ids):
    """Accuracy, per-class recall and precision, minority recall/precision/F1 (mean over minority
    classes), balanced accuracy, G-mean and the confusion matrix (rows: true, columns: predicted)."""
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
        "per_class": {
            name: {"recall": float(recall[i]), "precision": float(precision[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(classes)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
