"""The timing run (`python -m benchmark.gpu`) on the CPU: every stage timed, counted and tabled."""

import json
from types import SimpleNamespace

import pytest
import torch

from benchmark import gpu, gpu_checks
from conftest import FIXTURE, TINY
from smate.config import build_config
from smate.data import load_dataset
from smate.report.layout import training_dir

ARGS = [*TINY, "--set", "methods=imbalanced,smote,smate", "--set", "seeds=0"]


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    out = tmp_path_factory.mktemp("timed") / "run"
    assert gpu.main([*ARGS, "--out", str(out)]) == 0
    return out, json.loads((out / "timing.json").read_text())


def test_every_stage_is_timed_in_run_order(timed):
    out, timing = timed
    assert [stage["stage"] for stage in timing["stages"]] == [
        "prepare", "split", "pretrain_gan@0", "transfer_gan@smate-0", "synthesize@smate-0", "feature_net",
        "gan_quality@smate", "pretrain_quality@0", "train@imbalanced-0", "train@smote-0", "train@smate-0", "summarize",
        "report"]
    assert timing["complete"] and all(stage["seconds"] > 0 for stage in timing["stages"])
    assert timing["total_seconds"] >= sum(stage["seconds"] for stage in timing["stages"])
    assert (out / "report" / "report.md").is_file() and (out / "summary.csv").is_file()


def test_images_are_counted_per_epoch_and_memory_is_left_empty_on_the_cpu(timed):
    out, timing = timed
    stages = {stage["stage"]: stage for stage in timing["stages"]}
    assert stages["prepare"]["images"] == 300
    run = json.loads((out / "runs" / "smote-0" / "metrics.json").read_text())
    assert stages["train@smote-0"]["images"] == sum(run["train_counts"].values()) * run["params"]["classify"]["fast"]["epochs"]
    assert stages["pretrain_gan@0"]["training_images_per_second"] > 0
    assert stages["split"]["images"] is None and stages["split"]["images_per_second"] is None
    scored = json.loads((out / "gan" / "pretrained" / "seed-0" / "quality.json").read_text())
    assert stages["pretrain_quality@0"]["images"] == scored["n_heldout"] * len(scored["curve"]) > 0
    assert all(stage["peak_gpu_memory_bytes"] is None for stage in stages.values())
    assert timing["environment"]["device"]["type"] == "cpu"


def test_the_table_groups_stages_by_kind(timed):
    out, _ = timed
    table = (out / "timing.md").read_text()
    assert "| train " in table and "| pretrain_gan " in table and "python -m benchmark.gpu" in table


def test_a_used_folder_is_refused(timed, capsys):
    out, _ = timed
    assert gpu.main([*ARGS, "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_gpu_checks_run_their_measurements_on_the_cpu():
    cpu = torch.device("cpu")
    assert gpu_checks.gan_throughput(cpu, batch_size=8, bf16=False, steps=2, warmup=1) > 0
    dataset = load_dataset("imagefolder", FIXTURE)
    params = build_config(None, "tiny", [])["classify"]["fast"]
    (run,) = gpu_checks.classifier_runs(dataset, cpu, seeds=(0,), params=params)
    assert run["seed"] == 0 and run["train_seconds"] > 0 and 0 <= run["accuracy"] <= 1


@pytest.mark.parametrize("graphed, advised", [(40_000, "gan.train.cuda_graphs=true"), (9_000, ""), (None, ""), ("error", "")])
def test_the_session_turns_on_cuda_graphs_only_where_the_checks_saw_them_win(graphed, advised, tmp_path, capsys):
    runs = [{"batch_size": 128, "bf16": False, "cuda_graphs": False, "images_per_second": 15_000}]
    if graphed == "error":
        runs.append({"batch_size": 128, "bf16": False, "cuda_graphs": True, "error": "capture failed"})
    elif graphed is not None:
        runs.append({"batch_size": 128, "bf16": False, "cuda_graphs": True, "images_per_second": graphed})
    checks = tmp_path / "checks.json"
    checks.write_text(json.dumps({"gan": runs}))
    assert gpu_checks.main(["--advise", str(checks)]) == 0
    assert capsys.readouterr().out.strip() == advised


def test_gpu_checks_without_the_data_stop_with_one_line(tmp_path, capsys):
    assert gpu_checks.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "checks.json")]) == 2
    assert "benchmark.gpu_checks: error:" in capsys.readouterr().err


def test_a_run_is_dirty_when_code_changed_and_not_when_only_committed_results_grew(tmp_path):
    import subprocess

    from smate.pipeline.runinfo import git_commit

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@t.invalid")
    git("config", "user.name", "t")
    (tmp_path / "smate").mkdir()
    (tmp_path / "smate" / "code.py").write_text("x = 1\n")
    (tmp_path / "results" / "study").mkdir(parents=True)
    (tmp_path / "results" / "study" / "stages.json").write_text("{}\n")
    git("add", "-A")
    git("commit", "-qm", "first")
    clean = git_commit(tmp_path / "smate")
    assert len(clean) == 40
    (tmp_path / "results" / "study" / "stages.json").write_text('{"more": 1}\n')  # a resumed run's own output
    assert git_commit(tmp_path / "smate") == clean
    (tmp_path / "smate" / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path / "smate") == clean + "+dirty"


def test_a_transfer_of_several_passes_an_epoch_counts_every_pass(tmp_path):
    folder = training_dir(tmp_path, "smate_noaug", 0) / "generators" / "truck"
    folder.mkdir(parents=True)
    (folder / "history.json").write_text(json.dumps({"n_images": 4, "passes": 2, "history": [{"images_per_second": 10.0}] * 3}))
    step = SimpleNamespace(kind="transfer_gan", fields={"variant": "smate_noaug", "generator_seed": 0})
    assert gpu.images_processed(step, None, None, tmp_path) == (24, 10.0)
