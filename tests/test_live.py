"""log.dvclive: every classifier and GAN training writes its per-epoch curves through DVCLive while it trains."""

import csv
import importlib.util
import json
import subprocess

import pytest

from conftest import TINY
from smate.cli import main
from smate.errors import SmateError
from smate.config import check_dvclive as check_available
from smate.pipeline.live import epoch_logger


def read_tsv(path):
    with open(path) as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture
def outside_git(tmp_path, monkeypatch):
    """A folder in no git repository, where DVCLive opens no DVC project."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_each_number_of_a_record_becomes_a_curve_over_epochs(outside_git):
    with epoch_logger(outside_git, "train@smote-0", True) as log:
        for epoch in (2, 4):
            log({"epoch": epoch, "step": 10 * epoch, "test_accuracy": epoch / 10, "note": "text"})
        log({"epoch": 1, "d_loss": 0.5}, prefix="truck/")
    curves = outside_git / "live" / "train@smote-0" / "plots" / "metrics"
    assert read_tsv(curves / "test_accuracy.tsv") == [{"step": "2", "test_accuracy": "0.2"}, {"step": "4", "test_accuracy": "0.4"}]
    assert read_tsv(curves / "truck" / "d_loss.tsv") == [{"step": "1", "d_loss": "0.5"}]
    # The epoch is the step, and the optimizer's step count and text are no curves.
    assert sorted(p.relative_to(curves).as_posix() for p in curves.rglob("*.tsv")) == ["test_accuracy.tsv", "truck/d_loss.tsv"]


def test_off_logs_nothing(outside_git):
    with epoch_logger(outside_git, "train@smote-0", False) as log:
        assert log is None
    assert not (outside_git / "live").exists()


def test_a_stage_that_logs_no_epoch_leaves_no_log(outside_git):
    with epoch_logger(outside_git, "train@crt-0", True):
        pass
    assert not (outside_git / "live" / "train@crt-0").exists()


def test_a_git_repository_with_no_commit_is_refused_in_one_line(outside_git):
    subprocess.run(["git", "init", "-q"], cwd=outside_git, check=True)
    with pytest.raises(SmateError, match="make its first commit, or --set log.dvclive=false"):
        with epoch_logger(outside_git, "train@smote-0", True):
            pass


def test_without_dvclive_the_run_stops_before_any_work(tmp_path, monkeypatch, capsys):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "dvclive" else find_spec(name, *rest))
    with pytest.raises(SmateError, match="pip install dvclive"):
        check_available(True)
    check_available(False)
    assert main(["run", *TINY, "--set", "log.dvclive=true", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "log.dvclive is on but DVCLive is not installed" in error
    assert not (tmp_path / "out").exists()


def test_a_run_logs_every_training_it_makes(outside_git):
    """A tiny run of imbalanced, SMate and cRT: the classifier runs, the pretraining, SMate's transfer (per minority
    class) and the feature net each leave curves with one row per scored epoch, and cRT, which trains no epoch of a
    network, none; their results are the same as off."""
    grid = [*TINY, "--set", "seeds=0", "--set", "methods=imbalanced,smate,crt", "--set", "classify.fast.epochs=2",
            "--workers", "1"]  # what a run logs, not how its executor runs it
    assert main(["run", *grid, "--set", "log.dvclive=true", "--out", "on"]) == 0
    live = outside_git / "on" / "live"
    imbalanced = json.loads((outside_git / "on" / "runs" / "imbalanced-0" / "metrics.json").read_text())
    accuracy = read_tsv(live / "train@imbalanced-0" / "plots" / "metrics" / "test_accuracy.tsv")
    assert [(int(row["step"]), float(row["test_accuracy"])) for row in accuracy] == \
        [(h["epoch"], h["test_accuracy"]) for h in imbalanced["history"]]
    pretraining = json.loads((outside_git / "on" / "gan" / "pretrained" / "seed-0" / "history.json").read_text())["history"]
    d_loss = read_tsv(live / "pretrain_gan@0" / "plots" / "metrics" / "d_loss.tsv")
    assert [int(row["step"]) for row in d_loss] == [h["epoch"] for h in pretraining]
    assert (live / "transfer_gan@smate-0" / "plots" / "metrics" / "truck" / "sample_ssim.tsv").is_file()
    assert (live / "feature_net" / "plots" / "metrics" / "test_accuracy.tsv").is_file()  # it scores no minority
    assert not (live / "train@crt-0").exists()
    assert main(["run", *grid, "--out", "off"]) == 0
    assert not (outside_git / "off" / "live").exists()
    for run in ("imbalanced-0", "smate-0"):
        on, off = (json.loads((outside_git / out / "runs" / run / "metrics.json").read_text()) for out in ("on", "off"))
        assert [h["test_accuracy"] for h in on["history"]] == [h["test_accuracy"] for h in off["history"]]
