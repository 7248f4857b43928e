"""`smate-bench run --executor ray` on a local two-CPU Ray cluster, against the local executor's tiny run."""

import csv
import json
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from smate.cli import main
from smate.errors import SmateError
from smate import atomic
from smate.pipeline.ray_executor import AttemptLog, RayCluster, _until_interrupted

from conftest import TINY, cli_env

ray = pytest.importorskip("ray", reason="the Ray executor's tests need the ray extra: pip install 'smate-bench[ray]'")

TIMES = {"train_seconds_mean", "train_seconds_std"}  # wall times, the one thing that differs between executors


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_run(cluster, tmp_path_factory):
    out = tmp_path_factory.mktemp("ray")
    assert main(["run", *TINY, "--executor", "ray", "--out", str(out)]) == 0
    return out


def _summary(folder):
    with open(folder / "summary.csv") as handle:
        return [{k: v for k, v in row.items() if k not in TIMES} for row in csv.DictReader(handle)]


def _metrics(folder, run, drop=("seconds",)):
    record = json.loads((folder / "runs" / run / "metrics.json").read_text())
    return {key: value for key, value in record.items() if key not in drop}


def test_a_ray_run_gives_the_local_runs_numbers(ray_run, tiny_run):
    assert _summary(ray_run) == _summary(tiny_run)
    runs = sorted(path.name for path in (tiny_run / "runs").iterdir())
    assert runs == sorted(path.name for path in (ray_run / "runs").iterdir())
    for run in runs:
        assert _metrics(ray_run, run) == _metrics(tiny_run, run), run
    for quality in tiny_run.glob("gan/*/quality.json"):
        assert json.loads((ray_run / quality.relative_to(tiny_run)).read_text()) == json.loads(quality.read_text())
    log = json.loads((ray_run / "stages.json").read_text())
    assert (log["executor"], log["cpus"], log["gpus"], log["nodes"]) == ("ray", 2, 0, 1)
    assert {stage["status"] for stage in log["stages"].values()} == {"ran"}
    assert (ray_run / "report" / "report.md").is_file()


def test_a_second_ray_run_keeps_every_finished_stage(ray_run, capsys):
    before = {path: path.stat().st_mtime_ns for path in (ray_run / "runs").glob("*/metrics.json")}
    assert main(["run", *TINY, "--executor", "ray", "--out", str(ray_run)]) == 0
    log = json.loads((ray_run / "stages.json").read_text())
    rerun = {name for name, stage in log["stages"].items() if stage["status"] == "ran"}
    assert rerun == {"prepare", "split", "summarize", "report"} | {n for n in log["stages"] if n.startswith("gan_quality@")}
    assert {path: path.stat().st_mtime_ns for path in before} == before
    assert f"run: {len(log['stages']) - len(rerun)} stages kept" in capsys.readouterr().out


def test_a_stage_that_fails_on_a_worker_stops_the_run_with_its_one_line_error(cluster, tmp_path, capsys):
    grid = ["--set", "methods=imbalanced,smote", "--set", "seeds=0", "--executor", "ray", "--out", str(tmp_path)]
    # The tiny split has 4 trucks, too few for 20 neighbours: SMOTE's rebalancing fails on its worker.
    assert main(["run", *TINY, *grid, "--set", "rebalance.smote.k_neighbors=20"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("smate-bench: error: stage train@smote-0 failed: smote failed (")
    assert "lower rebalance.smote.k_neighbors below that" in error
    assert not (tmp_path / "runs" / "smote-0").exists() and not list(tmp_path.rglob("*.partial"))
    finished = {name for name, stage in json.loads((tmp_path / "stages.json").read_text())["stages"].items()}
    assert "train@smote-0" not in finished and {"prepare", "split"} <= finished
    for name in finished - {"prepare", "split"}:
        assert (tmp_path / "keys" / f"{name}.json").is_file()

    # Mended, the rerun keeps what finished and runs the rest.
    assert main(["run", *TINY, *grid, "--set", "rebalance.smote.k_neighbors=3"]) == 0
    stages = json.loads((tmp_path / "stages.json").read_text())["stages"]
    assert stages["train@smote-0"]["status"] == "ran"
    assert all(stages[name]["status"] == "kept" for name in finished - {"prepare", "split"})


def test_a_sweep_on_ray_gives_the_local_sweeps_numbers(cluster, tmp_path):
    grid = ["--set", "sweep.ratios=0.2,0.5", "--set", "sweep.methods=class_weight", "--set", "seeds=0"]
    assert main(["sweep", *TINY, *grid, "--executor", "ray", "--out", str(tmp_path / "ray")]) == 0
    assert main(["sweep", *TINY, *grid, "--out", str(tmp_path / "local")]) == 0
    for ratio in ("ratio-0.2", "ratio-0.5"):
        assert _metrics(tmp_path / "ray" / ratio, "class_weight-0") == _metrics(tmp_path / "local" / ratio, "class_weight-0")
        assert json.loads((tmp_path / "ray" / ratio / "stages.json").read_text())["executor"] == "ray"
    assert (tmp_path / "ray" / "report" / "sweep.md").read_text() == (tmp_path / "local" / "report" / "sweep.md").read_text()


def _title(process):
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _kill_first(prefix, run):
    """Kill (SIGKILL) the Ray worker whose title starts with `prefix`, while `run` goes on. Not at once:
    the title comes before the stage records its attempt, so the kill waits until it is training."""
    while run.is_alive():
        for process in psutil.process_iter():
            if _title(process).startswith(prefix):
                time.sleep(0.3)
                if not _title(process).startswith(prefix):
                    break  # it finished meanwhile: the run ends unkilled, and the test says so
                process.kill()
                return True
        time.sleep(0.02)
    return False


def test_a_stage_whose_worker_is_lost_is_retried_and_gives_the_same_numbers(cluster, tiny_run, tmp_path, capsys):
    argv = ["run", *TINY, "--set", "methods=imbalanced,smote", "--executor", "ray", "--no-report", "--out", str(tmp_path)]
    drop = ("seconds", "params")
    codes = []
    run = threading.Thread(target=lambda: codes.append(main(argv)))
    run.start()
    killed = _kill_first("ray::train@smote-1", run)
    run.join()
    assert killed, "the run ended before its smote-1 stage could be killed"
    assert codes == [0]
    assert "train@smote-1: finished on attempt 2; Ray retried it after losing its worker" in capsys.readouterr().out
    assert json.loads((tmp_path / "stages.json").read_text())["stages"]["train@smote-1"]["attempts"] == 2
    # The params differ in their methods list alone, which the run's content key leaves out.
    assert _metrics(tmp_path, "smote-1", drop) == _metrics(tiny_run, "smote-1", drop)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupting_a_ray_run_stops_its_stages_and_its_cluster_and_leaves_no_partial_files(tmp_path, sig):
    # Its own local cluster, which the run must take down with it.
    run = subprocess.Popen(["smate-bench", "run", *TINY, "--executor", "ray", "--out", str(tmp_path)],
                           env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (tmp_path / "gan" / "pretrained").is_dir() and time.monotonic() < deadline:
        time.sleep(0.05)  # until the GAN and classifier stages run
    processes = psutil.Process(run.pid).children(recursive=True)
    run.send_signal(sig)
    code = run.wait(timeout=120)
    stderr = run.stderr.read()
    assert code == 130, stderr
    assert "interrupted; finished outputs are kept" in stderr
    gone, alive = psutil.wait_procs(processes, timeout=30)
    assert not alive, [process.name() for process in alive]
    assert not list(tmp_path.rglob("*.partial"))


def test_a_stage_told_of_the_interrupt_stops_as_ctrl_c_stops_it_and_removes_its_partial_file(tmp_path):
    partials = []

    def stage():
        with atomic.atomic_path(tmp_path / "generator.pt") as tmp:
            partials.append(tmp)
            while True:
                time.sleep(0.01)

    told = time.monotonic() + 0.3
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a run started with nohup has it
    try:
        with pytest.raises(KeyboardInterrupt):
            _until_interrupted(stage, lambda: time.monotonic() > told)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert partials and not partials[0].exists() and not (tmp_path / "generator.pt").exists()


def test_a_stage_that_ends_before_the_interrupt_is_left_be():
    assert _until_interrupted(lambda: 42, lambda: True) == 42
    time.sleep(1)  # past the watcher's first look, which must not interrupt this test


def test_after_a_halt_no_stage_begins_and_retries_are_counted():
    log = AttemptLog()
    assert log.start("train@smote-1") and log.start("train@smote-1")
    assert log.count("train@smote-1") == 2 and not log.is_interrupted()
    log.halt()
    assert not log.start("summarize") and log.started() == {"train@smote-1"} and not log.is_interrupted()
    log.interrupt()
    assert log.is_interrupted()


def test_a_node_without_the_project_folder_says_it_must_be_shared(cluster):
    on_ray = RayCluster()
    stage = on_ray.task.remote(print, "train@smote-0", "/no/such/project", on_ray.attempt_log)
    with pytest.raises(SmateError, match="no folder /no/such/project: .* every node mounts at the driver's path"):
        ray.get(stage)


def test_without_ray_the_ray_executor_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where it is not installed
    assert main(["run", *TINY, "--executor", "ray", "--out", str(tmp_path)]) == 2
    assert "pip install 'smate-bench[ray]'" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--executor", "ray", "--workers", "2"], "--workers is for the local executor"),
    (["--address", "auto"], "--address is for --executor ray"),
])
def test_options_of_the_other_executor_are_refused(argv, message, tmp_path, capsys):
    assert main(["run", *TINY, *argv, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
