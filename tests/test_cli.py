import csv
import json
import subprocess

import numpy as np
import pytest
import yaml

from smate import atomic, stages
from smate.cli import main
from smate.config import build_config, defaults
from smate.rebalance import REBALANCERS

from conftest import FIXTURE, TINY, cli_env

SUMMARY_COLUMNS = {"method", "n_seeds", "accuracy_mean", "accuracy_std", "minority_recall_mean",
                   "minority_recall_std", "balanced_accuracy_mean", "gmean_mean"}


def test_run_writes_one_summary_row_per_method(tiny_run):
    with open(tiny_run / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert SUMMARY_COLUMNS <= set(rows[0])
    assert [row["method"] for row in rows] == defaults()["methods"] + defaults()["gan_methods"]
    assert {row["n_seeds"] for row in rows} == {"2"}
    for row in rows:
        assert 0 <= float(row["accuracy_mean"]) <= 1 and float(row["accuracy_std"]) >= 0
    assert "| method" in (tiny_run / "summary.md").read_text()


def test_run_ends_with_the_report_of_its_runs(tiny_run):
    report = (tiny_run / "report" / "report.md").read_text()
    assert "fast" in report and "smote" in report
    assert (tiny_run / "report" / "paper_table_fast.csv").is_file()


def test_run_without_the_papers_numbers_says_why_there_is_no_report(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", *TINY, "--set", "methods=imbalanced", "--set", "gan_methods=", "--set", "seeds=0", "--out", "out"]) == 0
    assert "no report" in capsys.readouterr().out
    assert (tmp_path / "out" / "summary.csv").is_file() and not (tmp_path / "out" / "report").exists()


@pytest.mark.parametrize("method", sorted(REBALANCERS))
def test_every_run_records_metrics_history_and_provenance(tiny_run, method):
    record = json.loads((tiny_run / "runs" / f"{method}-1" / "metrics.json").read_text())
    assert record["method"] == method and record["seed"] == 1 and record["minority"] == ["truck"]
    for key in ("accuracy", "balanced_accuracy", "gmean", "minority_recall", "minority_precision", "minority_f1"):
        assert 0 <= record[key] <= 1
    assert set(record["per_class"]["truck"]) == {"recall", "precision", "f1", "support"}
    assert np.array(record["confusion_matrix"]).sum() == 100
    assert len(record["history"]) == 8 and {"train_loss", "test_accuracy", "minority_recall"} <= set(record["history"][0])
    assert set(record["seconds"]) == {"rebalance", "train", "epoch_eval", "predict"}
    assert record["params"]["data"]["ratio"] == 0.2
    assert record["environment"]["packages"]["torch"] and record["environment"]["device"]["type"] == "cpu"
    assert len(record["dataset"]["sha256"]) == 64
    truck_count = record["train_counts"]["truck"]
    if method in ("imbalanced", "class_weight", "undersample"):
        assert truck_count == 4
    elif method == "adasyn":  # balances approximately
        assert 15 <= truck_count <= 25
    else:
        assert truck_count == 20
    with open(tiny_run / "runs" / f"{method}-1" / "predictions.csv") as handle:
        predictions = list(csv.DictReader(handle))
    assert len(predictions) == 100 and predictions[0]["actual"] == "airplane"
    confusion = np.array(record["confusion_matrix"])
    assert sum(p["actual"] == p["predicted"] for p in predictions) == np.trace(confusion)
    with open(tiny_run / "runs" / f"{method}-1" / "history.csv") as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == list(range(1, 9))


def test_gan_stages_leave_generators_grids_and_synthetic_images(tiny_run):
    pretrained = tiny_run / "gan" / "pretrained"
    assert {"generator.pt", "discriminator.pt", "history.json", "checkpoint.pt"} <= {p.name for p in pretrained.iterdir()}
    for variant in ("smate", "smate_noaug", "gan_minority"):
        folder = tiny_run / "gan" / variant
        history = json.loads((folder / "generators" / "truck" / "history.json").read_text())
        assert history["freeze"] == (0 if variant == "gan_minority" else 6)
        assert history["n_images"] == (4 if variant == "smate_noaug" else 40)
        # smate_noaug trains 10x the epochs on 1/10 the images, with grids 10x as far apart.
        last_grid = "epoch_0010.png" if variant == "smate_noaug" else "epoch_0001.png"
        assert sorted(p.name for p in (folder / "generators" / "truck" / "samples").iterdir()) == [last_grid]
        with np.load(folder / "synthetic.npz") as synthetic:
            assert synthetic["images"].shape == (16, 32, 32, 3) and set(synthetic["labels"]) == {9}
        assert (folder / "synthetic.png").is_file()
        scores = json.loads((folder / "quality.json").read_text())["classes"]["truck"]
        assert scores["n_synthetic"] == 16 and scores["n_heldout"] == 10
        assert np.isfinite(scores["frechet_distance"]) and 0 <= scores["precision"] <= 1 and 0 <= scores["recall"] <= 1
        assert scores["memorization"]["ratio"] > 0


def test_split_is_saved_and_printed(tiny_run):
    split = json.loads((tiny_run / "prepared" / "split.json").read_text())
    assert split["train_counts"]["truck"] == 4 and split["n_kept"] == 184
    assert split["data"] == {"minority": "truck", "ratio": 0.2, "seed": 0}


def test_stages_one_at_a_time_match_run(tiny_run, tmp_path):
    for command in (["prepare"], ["split"], ["train", "--method", "smote", "--seed", "0"]):
        assert main([*command, *TINY, "--out", str(tmp_path)]) == 0
    again = json.loads((tmp_path / "runs" / "smote-0" / "metrics.json").read_text())
    before = json.loads((tiny_run / "runs" / "smote-0" / "metrics.json").read_text())
    assert again["confusion_matrix"] == before["confusion_matrix"]
    assert again["history"] == before["history"]


@pytest.mark.parametrize("override, message", [
    ("data.minority=lorry", "unknown class 'lorry'"),
    ("data.ratio=0", "data.ratio must be in (0, 1]"),
    ("methods=imbalanced,nope", "unknown method 'nope'"),
    ("data.root=/nonexistent/data", "does not exist"),
])
def test_bad_input_stops_with_one_line_and_no_outputs(override, message, tmp_path, capsys):
    code = main(["run", *TINY, "--set", override, "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert len(error.splitlines()) == 1 and error.startswith("smate-bench: error:") and message in error
    assert not (tmp_path / "out" / "runs").exists() and not (tmp_path / "out" / "summary.csv").exists()


def test_train_refuses_a_split_made_with_other_params(tiny_run, capsys):
    code = main(["train", *TINY, "--set", "data.ratio=0.5", "--method", "smote", "--seed", "0", "--out", str(tiny_run)])
    assert code == 2 and "rerun `smate-bench split`" in capsys.readouterr().err


def test_summarize_names_the_missing_run(tmp_path, capsys):
    assert main(["summarize", *TINY, "--out", str(tmp_path)]) == 2
    assert "smate-bench train --method full --seed 0" in capsys.readouterr().err


def test_params_prints_the_merged_config(capsys):
    assert main(["params", "--preset", "smoke", "--set", "seeds=7"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["seeds"] == [7] and printed["data"]["max_train_per_class"] == 200


def test_methods_lists_every_registered_method(capsys):
    assert main(["methods"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(REBALANCERS)


def test_console_script_exits_non_zero_on_bad_input(tmp_path):
    done = subprocess.run(["smate-bench", "run", *TINY, "--set", "data.ratio=2", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=cli_env())
    assert done.returncode == 2 and "data.ratio must be in (0, 1]" in done.stderr


def test_a_failed_write_leaves_the_old_folder_and_no_partial_one(tmp_path):
    target = tmp_path / "runs" / "smote-0"
    with atomic.atomic_dir(target) as tmp:
        (tmp / "metrics.json").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_dir(target) as tmp:
            (tmp / "metrics.json").write_text("half")
            raise RuntimeError("killed")
    assert (target / "metrics.json").read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["smote-0"]


def test_a_rewritten_prepared_dataset_is_read_again(tmp_path):
    for per_class in (3, 5):
        overrides = [f"data.root={FIXTURE}", f"data.max_train_per_class={per_class}"]
        assert main(["prepare", "--preset", "tiny", *sum((["--set", o] for o in overrides), []), "--quiet",
                     "--out", str(tmp_path)]) == 0
        dataset = stages.load_prepared(build_config(None, "tiny", overrides), tmp_path)
        assert len(dataset.train_labels) == 10 * per_class


def test_a_rerun_keeps_runs_made_with_the_same_inputs_and_commit(tmp_path, monkeypatch, capsys):
    from smate import runinfo

    def at_commit(commit):
        for module in (runinfo, stages):
            monkeypatch.setattr(module, "git_commit", lambda: commit)

    args = ["run", *TINY, "--set", "methods=imbalanced,smote", "--set", "gan_methods=", "--set", "seeds=0",
            "--out", str(tmp_path)]
    metrics = tmp_path / "runs" / "smote-0" / "metrics.json"
    at_commit("abc123")
    assert main(args) == 0
    first = metrics.read_text()
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "train@smote-0: kept" in printed and "train@imbalanced-0: kept" in printed
    assert metrics.read_text() == first
    for changed in (["--set", "rebalance.smote.k_neighbors=3"], []):
        assert main(args + changed) == 0
        assert "kept" not in capsys.readouterr().out
    at_commit("abc123+dirty")
    assert main(args) == 0
    assert "kept" not in capsys.readouterr().out
