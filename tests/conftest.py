import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "cifar10-mini"
SHARED_DATA = REPO.parent / "shared" / "data"


TINY = ["--preset", "tiny", "--set", f"data.root={FIXTURE}", "--quiet"]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """`smate-bench run --preset tiny` on the fixture, once per test session."""
    from smate.cli import main

    out = tmp_path_factory.mktemp("tiny")
    assert main(["run", *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def cifar10_root(tmp_path_factory):
    """The full CIFAR-10 JPEG copy from ../shared/data, unpacked once; skips when it is absent."""
    packed = SHARED_DATA / "cifar10-jpeg.npz"
    if not packed.is_file():
        pytest.skip(f"the full CIFAR-10 copy is not at {packed}")
    root = tmp_path_factory.mktemp("cifar10")
    subprocess.run([sys.executable, str(SHARED_DATA / "unpack_cifar10.py"), str(root)], check=True, capture_output=True)
    return root


def cli_env():
    """The environment for running smate-bench and dvc as subprocesses of this interpreter's venv."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def copy_pipeline(root):
    """A fresh DVC pipeline in `root`: dvc.yaml (and the sweep's), the package and the paper's numbers, in a new git repository."""
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / ".dvc", root / ".dvc", ignore=shutil.ignore_patterns("tmp", "cache"))
    shutil.copytree(REPO / "smate", root / "smate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "paper", root / "paper")
    shutil.copytree(REPO / "sweep", root / "sweep")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    for key, value in (("user.name", "smate-bench tests"), ("user.email", "tests@smate-bench.invalid")):
        subprocess.run(["git", "config", key, value], cwd=root, check=True)  # dvc exp run commits experiments
    return root
