"""The run's estimate of the time its stages left will take, from the times runs recorded."""

import json
from types import SimpleNamespace

from smate.pipeline import eta
from smate.report import layout
from smate.cli import main

from conftest import FIXTURE


def recorded(out, name, seconds):
    path = layout.key_path(out, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": "old", "seconds": seconds}))


def steps(*names):
    return [SimpleNamespace(name=name) for name in names]


def test_a_stage_is_estimated_by_its_own_time_then_its_kinds_then_not_at_all(tmp_path):
    recorded(tmp_path, "train@smote-0", 100.0)
    recorded(tmp_path, "train@imbalanced-0", 40.0)
    time_left = eta.TimeLeft(tmp_path, steps("train@smote-0", "train@smote-1", "train@imbalanced-0", "train@adasyn-0"))
    assert time_left.seconds(["train@smote-0"]) == 100.0
    assert time_left.seconds(["train@smote-1"]) == 100.0  # the same method's other seed
    assert time_left.seconds(["train@adasyn-0"]) == 70.0  # the mean of every train stage
    assert time_left.seconds(["pretrain_gan@0"]) is None  # nothing of its kind recorded: no estimate
    time_left.finished("pretrain_gan@0", 600.0)
    assert time_left.seconds(["pretrain_gan@1", "train@smote-1"]) == 700.0
    assert eta.TimeLeft(tmp_path, steps("train@smote-0"), workers=2).seconds(["train@smote-0"]) == 50.0


def test_the_estimate_reads_as_one():
    assert eta.describe(None) == ""
    assert eta.describe(42) == "about 42 s left (estimate)"
    assert eta.describe(600) == "about 10 min left (estimate)"
    assert eta.describe(3 * 3600) == "about 3.0 h left (estimate)"


def test_a_rerun_shows_the_time_left_beside_its_stage_bar(tmp_path, capsys):
    grid = ["--preset", "tiny", "--set", f"data.root={FIXTURE}", "--set", "seeds=0", "--set", "methods=imbalanced",
            "--set", "classify.fast.epochs=1", "--out", str(tmp_path)]
    assert main(["run", *grid]) == 0
    assert "left (estimate)" not in capsys.readouterr().err  # a first run has nothing to go on
    assert main(["run", *grid[:-2], "--set", "classify.fast.lr=0.002", "--out", str(tmp_path)]) == 0
    assert "left (estimate)" in capsys.readouterr().err
