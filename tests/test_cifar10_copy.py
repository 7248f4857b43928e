"""Checks on the full CIFAR-10 JPEG copy; skipped when ../shared/data is absent."""

import csv
import json

import numpy as np
import pytest

from smate.cli import main
from smate.data import load_dataset

pytestmark = pytest.mark.cifar10


def test_full_copy_loads_with_cifar10_shapes_and_counts(cifar10_root):
    dataset = load_dataset("auto", cifar10_root)
    assert dataset.train_images.shape == (50000, 32, 32, 3) and dataset.test_images.shape == (10000, 32, 32, 3)
    assert np.bincount(dataset.train_labels).tolist() == [5000] * 10
    assert dataset.classes[9] == "truck"


def test_smoke_preset_on_real_images(cifar10_root, tmp_path):
    # Three of the smoke preset's methods and one seed: the whole preset is timed by hand, not here.
    out = tmp_path / "smoke"
    args = ["run", "--preset", "smoke", "--set", f"data.root={cifar10_root}", "--set", "methods=full,smote,smate",
            "--set", "seeds=0", "--quiet", "--out", str(out)]
    assert main(args) == 0
    with open(out / "summary.csv") as handle:
        rows = {row["method"]: row for row in csv.DictReader(handle)}
    # Ten classes, 2,000 train images: a net that learns at all is far above chance (10%).
    assert float(rows["full"]["accuracy_mean"]) > 0.25
    split = json.loads((out / "prepared" / "split.json").read_text())
    assert split["splits"]["0"]["train_counts"]["truck"] == 20
    assert "smate" in rows and (out / "gan" / "smate" / "quality.json").is_file()
