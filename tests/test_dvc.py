"""`dvc repro` end to end on the fixture, in a temporary copy of the pipeline."""

import csv
import json
import subprocess

import pytest
import yaml

from conftest import FIXTURE, cli_env, copy_pipeline

pytestmark = pytest.mark.slow


def sh(args, cwd):
    done = subprocess.run(args, cwd=cwd, env=cli_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """The tiny pipeline reproduced with DVCLive's curves on, in a repository with a first commit (DVCLive's need)."""
    root = copy_pipeline(tmp_path_factory.mktemp("pipeline"))
    sh(["git", "add", "-A"], root)
    sh(["git", "commit", "-qm", "the pipeline"], root)
    output = sh(["smate-bench", "repro", "--preset", "tiny", "--set", f"data.root={FIXTURE}", "--set", "seeds=0",
                 "--set", "methods=imbalanced,smote,smate",
                 "--set", "classify.fast.epochs=2", "--set", "log.dvclive=true"], root)
    return root, output


def test_repro_runs_every_stage_and_writes_the_table(pipeline):
    root, output = pipeline
    params = yaml.safe_load((root / "params.yaml").read_text())
    for stage in ("prepare", "split", "train", "summarize", "report"):
        assert f"Running stage '{stage}'" in output
    for method in params["methods"]:
        assert f"train {method}-0:" in output
    for stage in ("pretrain_gan seed 0:", "transfer_gan smate truck, seed 0:", "synthesize smate:", "feature_net:", "gan_quality smate truck:"):
        assert stage in output
    with open(root / "results" / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["method"] for row in rows] == params["methods"]
    assert all(row["n_seeds"] == "1" for row in rows)
    assert (root / "dvc.lock").is_file()
    assert "## Classifier: fast" in (root / "results" / "report" / "report.md").read_text()
    assert (root / "results" / "report" / "figures" / "fig12_generated_minority.png").is_file()


def rerun_after(root, change):
    """`dvc status`'s stale stages of the main pipeline (the sweep's file aside) after a params change, then
    what `dvc repro` printed. The change stays, its outputs reproduced: the pipeline is as up to date as the
    fixture left it, and each test after it asserts on what its own change reruns."""
    path = root / "params.yaml"
    params = yaml.safe_load(path.read_text())
    change(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    stale = sorted(json.loads(sh(["dvc", "status", "--json", "dvc.yaml"], root)))
    output = sh(["dvc", "repro"], root)
    ran = sorted(line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage"))
    return stale, ran, output


def test_changing_one_methods_param_reruns_only_that_methods_runs(pipeline):
    def smaller_k(params):
        params["rebalance"]["smote"]["k_neighbors"] = 1

    stale, ran, output = rerun_after(pipeline[0], smaller_k)
    assert stale == ["train"] and ran == ["report", "summarize", "train"]
    # Inside the train stage the content keys keep every run the change leaves alone.
    assert "train smote-0:" in output and "train imbalanced-0:" not in output and "train smate-0:" not in output


def test_changing_a_classifier_param_retrains_the_feature_net_and_no_generator(pipeline):
    def more_epochs(params):
        params["classify"]["fast"]["epochs"] = 3

    stale, ran, output = rerun_after(pipeline[0], more_epochs)
    assert stale == ["train"]
    assert "feature_net:" in output and "gan_quality smate truck:" in output
    for generator in ("pretrain_gan seed 0:", "transfer_gan smate truck, seed 0:", "synthesize smate:"):
        assert generator not in output
    assert all(f"train {method}-0:" in output for method in ("imbalanced", "smote", "smate"))


def test_dvc_plots_show_every_trainings_curves(pipeline):
    """dvc.yaml's plots are whatever trainings the params made: each method's run and each GAN stage, one plot a number."""
    root, _ = pipeline
    shown = json.loads(sh(["dvc", "plots", "show", "--json"], root))
    assert not shown.get("errors"), shown["errors"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    for classifier in [f"train@{method}-0" for method in params["methods"]] + ["feature_net"]:
        assert f"results/live/{classifier}/plots/metrics/test_accuracy.tsv" in shown["data"]
    assert "results/live/pretrain_gan@0/plots/metrics/d_loss.tsv" in shown["data"]
    assert "results/live/transfer_gan@smate-0/plots/metrics/truck/g_loss.tsv" in shown["data"]
    (plot,) = shown["data"]["results/live/train@smote-0/plots/metrics/minority_recall.tsv"]
    history = json.loads((root / "results" / "runs" / "smote-0" / "metrics.json").read_text())["history"]
    assert [int(row["step"]) for row in plot["content"]["data"]["values"]] == [h["epoch"] for h in history]


def test_dvc_metrics_and_experiments_list_each_methods_results(pipeline):
    """`dvc metrics show` lists results/metrics.json; after a commit, `dvc exp run -S` tries a change and both
    `dvc exp show` and `dvc metrics diff` list its metrics beside the committed ones."""
    root, _ = pipeline
    params = yaml.safe_load((root / "params.yaml").read_text())
    shown = json.loads(sh(["dvc", "metrics", "show", "--json"], root))
    (workspace,) = shown.values()  # named "" before the repository's first commit
    committed = workspace["data"]["results/metrics.json"]["data"]
    assert list(committed) == params["methods"]
    assert 0 <= committed["smote"]["balanced_accuracy"]["mean"] <= 1
    written = json.loads((root / "results" / "metrics.json").read_text())
    assert written["smote"]["minority_f1"]["std"] is None  # one seed: no spread, which DVC leaves out
    sh(["git", "add", "-A"], root)
    sh(["git", "commit", "-qm", "baseline"], root)
    # Four epochs: a value no other test ran, so DVC's run cache cannot answer for the train stage.
    output = sh(["dvc", "exp", "run", "-S", "classify.fast.epochs=4", "-n", "four-epochs"], root)
    assert "train imbalanced-0:" in output and "pretrain_gan seed 0:" not in output
    experiments = json.loads(sh(["dvc", "exp", "show", "--json"], root))
    names = [exp.get("name") for commit in experiments for exp in commit.get("experiments") or []]
    assert "four-epochs" in names, experiments
    changed = json.loads(sh(["dvc", "metrics", "diff", "--json"], root))["results/metrics.json"]
    assert changed["imbalanced.accuracy.mean"]["old"] == committed["imbalanced"]["accuracy"]["mean"]
    assert changed["imbalanced.accuracy.mean"]["new"] != changed["imbalanced.accuracy.mean"]["old"]


def test_dvc_repro_keeps_what_run_made(tmp_path):
    """`dvc repro` after `smate-bench run` into the same folder retrains nothing: its stages find the
    content keys run left, then dvc.lock records the outputs and DVC has nothing stale."""
    root = copy_pipeline(tmp_path)
    grid = ["--preset", "tiny", "--set", f"data.root={FIXTURE}", "--set", "seeds=0", "--set", "methods=imbalanced,smate",
            "--set", "classify.fast.epochs=2"]
    sh(["smate-bench", "run", *grid, "--quiet", "--workers", "1", "--out", "results"], root)  # what run left, not how
    output = sh(["smate-bench", "repro", *grid], root)
    assert "stages kept" in output
    for trained in ("pretrain_gan seed 0:", "transfer_gan smate truck, seed 0:", "feature_net:", "train imbalanced-0:", "train smate-0:"):
        assert trained not in output
    assert json.loads(sh(["dvc", "status", "--json", "dvc.yaml"], root)) == {}
