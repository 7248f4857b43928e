import math

import pytest

from smate.classify.metrics import classification_metrics


def test_metrics_on_a_hand_made_example():
    y_true = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    y_pred = [0, 0, 0, 1, 1, 1, 1, 1, 2, 0]
    m = classification_metrics(y_true, y_pred, ["a", "b", "c"], minority_ids=[2])
    assert m["accuracy"] == pytest.approx(0.8)
    # recalls 3/4, 4/4, 1/2
    assert m["balanced_accuracy"] == pytest.approx((0.75 + 1 + 0.5) / 3)
    assert m["gmean"] == pytest.approx((0.75 * 1 * 0.5) ** (1 / 3))
    assert m["minority_recall"] == pytest.approx(0.5)
    assert m["minority_precision"] == pytest.approx(1.0)
    assert m["minority_f1"] == pytest.approx(2 / 3)
    assert m["per_class"]["a"] == {"recall": 0.75, "precision": 0.75, "f1": 0.75, "support": 4}
    assert m["confusion_matrix"] == [[3, 1, 0], [0, 4, 0], [1, 0, 1]]


def test_several_minority_classes_are_averaged_and_empty_predictions_give_zero():
    m = classification_metrics([0, 1, 2, 2], [0, 0, 0, 2], ["a", "b", "c"], minority_ids=[1, 2])
    assert m["minority_recall"] == pytest.approx((0 + 0.5) / 2)
    assert m["per_class"]["b"]["precision"] == 0.0
    assert m["gmean"] == 0.0
    assert not math.isnan(m["minority_f1"])
