"""`smate-bench sweep`: the methods at each minority ratio, one run folder per ratio, one table and figure."""

import csv
import json
import subprocess
from pathlib import Path

import pytest

from smate.pipeline import sweep
from smate.cli import main
from smate.config import build_config, dump
from smate.errors import SmateError

from conftest import FIXTURE, cli_env, copy_pipeline

SMALL = ["--preset", "tiny", "--set", f"data.root={FIXTURE}", "--set", "sweep.ratios=0.2,0.5",
         "--set", "sweep.methods=imbalanced,class_weight", "--set", "seeds=0,1", "--set", "classify.fast.epochs=1",
         "--quiet", "--workers", "1"]  # the sweep, not the executor (tests/test_ray.py runs one on Ray)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    assert main(["sweep", *SMALL, "--out", str(out)]) == 0
    return out


def test_the_sweep_runs_each_ratio_and_tabulates_every_method_and_seed(swept):
    for ratio, trucks in (("0.2", 4), ("0.5", 10)):
        record = json.loads((swept / f"ratio-{ratio}" / "runs" / "class_weight-1" / "metrics.json").read_text())
        assert record["params"]["data"]["ratio"] == float(ratio) and record["train_counts"]["truck"] == trucks
    with open(swept / "report" / "sweep_runs.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["ratio"], r["method"], r["seed"]) for r in rows] == [
        (ratio, method, seed) for ratio in ("0.2", "0.5") for method in ("imbalanced", "class_weight") for seed in "01"]
    text = (swept / "report" / "sweep.md").read_text()
    assert "| class_weight | 0.5     | 2   |" in text and "the truck class cut to each ratio" in text
    assert (swept / "report" / "figures" / "ratio_sweep.png").is_file()


def test_a_second_sweep_keeps_every_run_and_its_report_regenerates_byte_for_byte(swept, tmp_path, capsys):
    before = {path: path.read_bytes() for path in swept.glob("ratio-*/runs/*/metrics.json")}
    assert main(["sweep", *SMALL, "--out", str(swept)]) == 0
    assert capsys.readouterr().out.count("run: 4 stages kept") == 2  # both ratios, 2 methods x 2 seeds each
    assert {path: path.read_bytes() for path in swept.glob("ratio-*/runs/*/metrics.json")} == before
    assert main(["report", "--results", str(swept), "--out", str(tmp_path)]) == 0
    for made in (swept / "report").rglob("*"):
        if made.is_file():
            assert (tmp_path / made.relative_to(swept / "report")).read_bytes() == made.read_bytes()


def test_a_sweep_on_two_machines_says_which_trained_each_value(swept, tmp_path):
    import shutil

    shutil.copytree(swept, tmp_path / "sweep")
    for path in (tmp_path / "sweep" / "ratio-0.5" / "runs").glob("*/metrics.json"):
        record = json.loads(path.read_text())
        record["environment"]["device"] = {"type": "cpu", "name": "Other CPU", "native_bf16": True}
        path.write_text(json.dumps(record))
    assert main(["report", "--results", str(tmp_path / "sweep")]) == 0
    text = (tmp_path / "sweep" / "report" / "sweep.md").read_text()
    assert "; devices " in text and "Other CPU (cpu, fp32) for 4 runs" in text  # the tiny preset asks for fp32
    assert "a change between two values of ratio holds any effect of the machines" in text
    assert "| 0.5     | Other CPU (cpu, fp32): 4 " in text


def test_status_reads_each_value_of_a_sweep(swept, capsys):
    status = [*SMALL[:SMALL.index("--workers")], "--out", str(swept)]
    assert main(["status", *status]) == 0
    assert capsys.readouterr().out.count("nothing to redo; its 4 stages finished") == 2
    assert main(["status", *status, "--set", "sweep.ratios=0.2,0.5,0.1"]) == 1
    assert "ratio-0.1: 4 of 4 stages to redo\n  never finished: 4" in capsys.readouterr().out


@pytest.mark.slow
def test_the_budget_sweep_trains_each_budget_and_reads_when_training_settled(tmp_path):
    budget = ["--preset", "tiny", "--set", "sweep.over=epochs", "--set", "sweep.epochs=1,3", "--set", "classify.model=keras_cnn",
              "--set", "sweep.methods=imbalanced,class_weight,oversample", "--set", "seeds=0,1,2", "--quiet", "--workers", "1"]
    assert main(["sweep", *budget, "--out", str(tmp_path)]) == 0
    for epochs in (1, 3):
        record = json.loads((tmp_path / f"epochs-{epochs}" / "runs" / "oversample-2" / "metrics.json").read_text())
        assert record["params"]["classify"]["keras_cnn"]["epochs"] == epochs and len(record["history"]) == epochs
    text = (tmp_path / "report" / "sweep.md").read_text()
    assert "each budget's epochs" in text and "| 1 -> 3   |" in text
    assert "Seeds needed at 3 epochs to detect a 10-point difference in minority recall" in text
    assert "| imbalanced - class_weight |" in text
    assert (tmp_path / "report" / "figures" / "budget_sweep.png").is_file()


def test_a_sweep_cut_short_says_which_ratio_is_missing(swept, tmp_path, capsys):
    (tmp_path / "sweep.json").write_text(json.dumps({"ratios": [0.2, 0.3], "methods": ["imbalanced"], "seeds": [0]}))
    (tmp_path / "ratio-0.2").symlink_to(swept / "ratio-0.2")
    assert main(["report", "--results", str(tmp_path)]) == 2
    assert "has no runs at ratio 0.3 yet; rerun `smate-bench sweep` to finish it" in capsys.readouterr().err


@pytest.mark.parametrize("override, message", [
    ("data.profile=exp", "the sweep varies data.ratio, which the exp profile does not read"),
    ("sweep.ratios=0.1,1.5", "sweep.ratios must be a non-empty list of numbers in (0, 1]"),
    ("sweep.methods=imbalanced,lorry", "sweep.methods must name registered methods, got 'lorry'"),
    ("sweep.over=seeds", "sweep.over must be one of ratio, epochs, got 'seeds'"),
    ("sweep.over=epochs --set sweep.epochs=0", "sweep.epochs must be a non-empty list of positive epoch counts"),
])
def test_bad_sweep_settings_stop_before_any_work(override, message, tmp_path, capsys):
    overrides = [arg for one in override.split(" --set ") for arg in ("--set", one)]
    assert main(["sweep", *SMALL, *overrides, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_each_ratios_run_trains_the_sweeps_methods_at_its_ratio():
    config = build_config(preset="tiny", overrides=["sweep.methods=imbalanced,smate,logit_adjust"])
    run = sweep.value_config(config, "ratio", 0.05)
    assert run["data"]["ratio"] == 0.05 and config["data"]["ratio"] == 0.2
    assert run["methods"] == ["imbalanced", "smate", "logit_adjust"]


def test_each_budgets_run_trains_the_params_classifier_for_its_epochs():
    config = build_config(preset="tiny", overrides=["sweep.over=epochs", "classify.model=keras_cnn"])
    run = sweep.value_config(config, "epochs", 8)
    assert run["classify"]["keras_cnn"]["epochs"] == 8 and config["classify"]["keras_cnn"]["epochs"] == 2
    assert sweep.value_folder("out", "epochs", 8) == Path("out") / "epochs-8"


@pytest.mark.slow
def test_the_sweeps_dvc_stage_runs_apart_from_the_main_pipeline(tmp_path):
    root = copy_pipeline(tmp_path)
    params = build_config(preset="tiny", overrides=[f"data.root={FIXTURE}", "sweep.ratios=0.5",
                                                    "sweep.methods=imbalanced", "seeds=0", "classify.fast.epochs=1"])
    (root / "params.yaml").write_text(dump(params))
    done = subprocess.run(["dvc", "repro", "sweep/dvc.yaml"], cwd=root, env=cli_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Running stage 'sweep/dvc.yaml:sweep'" in done.stdout
    assert (root / "results" / "sweep" / "report" / "sweep.md").is_file()
    assert not (root / "results" / "runs").exists()  # the main pipeline did not run


def test_a_sweep_method_without_params_stops_before_any_ratio_runs():
    config = build_config(preset="tiny", overrides=["sweep.methods=imbalanced,smote"])
    del config["rebalance"]["smote"]
    with pytest.raises(SmateError, match="sweep method 'smote' has no entry under 'rebalance:'"):
        sweep.check_sweep(config)
