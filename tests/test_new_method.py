"""A method is one module: one added to a copy of the package, with no other file touched, is listed, takes its
params, runs in `methods: [all]` and by its family, is in the docs' table, passes the shared checks and runs end
to end on the fixture."""

import json
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURE, REPO

NAME = "cyclic_oversample"
MODULE = '''"""A method written by tests/test_new_method.py, in a module of its own."""

import numpy as np

from ._base import Interval, Rebalancer, register


@register("cyclic_oversample")
class CyclicOversample(Rebalancer):
    """Every smaller class topped up to the largest count with its own images in turn, every `stride`-th one."""

    kind = "over"
    constraints = {"stride": Interval(int, 1)}

    def __init__(self, seed=0, stride=1):
        super().__init__(seed)
        self.stride = stride

    def _fit_resample(self, X, y):
        counts = np.bincount(y)
        images, labels = [X], [y]
        for class_id in np.flatnonzero((counts > 0) & (counts < counts.max())):
            members = np.flatnonzero(y == class_id)[:: self.stride]
            extra = np.resize(members, counts.max() - counts[class_id])
            images.append(X[extra])
            labels.append(y[extra])
        return np.concatenate(images), np.concatenate(labels)
'''
CHECKS = f'''
import json, sys
from smate.cli import main
from smate.config import build_config
from smate.rebalance import REBALANCERS
from smate.report.method_table import method_table

assert "{NAME}" in REBALANCERS
config = build_config(preset="tiny", overrides=["data.root={FIXTURE}"])
assert "{NAME}" in config["methods"] and config["rebalance"]["{NAME}"] == {{"stride": 1}}
assert "{NAME}" in build_config(overrides=["methods=sampling"])["methods"]
assert "| `{NAME}` | sampling | Every smaller class topped up" in method_table()
assert main(["params", "--set", "rebalance.{NAME}.strides=2"]) == 2
out = sys.argv[1]
assert main(["run", "--preset", "tiny", "--set", "data.root={FIXTURE}", "--set", "methods=imbalanced,{NAME}",
             "--set", "seeds=0", "--set", "rebalance.{NAME}.stride=2", "--workers", "1", "--quiet", "--out", out]) == 0
'''


@pytest.fixture(scope="module")
def package_with_a_new_method(tmp_path_factory):
    root = tmp_path_factory.mktemp("new_method")
    shutil.copytree(REPO / "smate", root / "smate", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "smate" / "rebalance" / f"{NAME}.py").write_text(MODULE)
    return root


def _python(root, *args):
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_a_method_in_one_new_module_is_listed_documented_and_runs_end_to_end(package_with_a_new_method):
    root = package_with_a_new_method
    done = _python(root, "-c", CHECKS, str(root / "out"))
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((root / "out" / "runs" / f"{NAME}-0" / "metrics.json").read_text())
    counts = json.loads((root / "out" / "prepared" / "split.json").read_text())["splits"]["0"]["train_counts"]
    assert record["train_counts"] == {name: max(counts.values()) for name in counts}
    assert record["params"]["rebalance"][NAME] == {"stride": 2}
    with open(root / "out" / "summary.csv") as handle:
        assert NAME in handle.read()
    assert "`rebalance.cyclic_oversample.strides`" not in done.stdout  # refused in one line, on stderr
    assert "unknown parameter 'rebalance.cyclic_oversample.strides'" in done.stderr


@pytest.mark.slow
def test_the_shared_checks_run_over_a_new_method(package_with_a_new_method):
    root = package_with_a_new_method
    (root / "tests").mkdir(exist_ok=True)
    for name in ("conftest.py", "test_rebalance.py"):
        shutil.copy(REPO / "tests" / name, root / "tests" / name)
    done = _python(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(root),
                   str(root / "tests" / "test_rebalance.py"), "-k", NAME)
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and " failed" not in done.stdout
