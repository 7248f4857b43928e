"""What CI can check of the image without a Docker engine: the Dockerfile read as data, and hadolint."""

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from conftest import REPO
from smate.pipeline import runinfo
from smate.cli import build_parser

LOCK = "requirements.lock"


@pytest.fixture(scope="module")
def dockerfile():
    parser = DockerfileParser(str(REPO / "Dockerfile"))
    return parser


def _instructions(dockerfile, name):
    return [item["value"] for item in dockerfile.structure if item["instruction"] == name]


def _lock_pins():
    pins = {}
    for line in (REPO / LOCK).read_text().splitlines():
        name, _, version = line.partition("==")
        pins[name.strip().lower()] = version.strip()
    return pins


def test_base_image_is_pinned_to_the_locked_torch_and_cuda(dockerfile):
    image, _, tag = dockerfile.baseimage.partition(":")
    assert image == "pytorch/pytorch" and tag and tag != "latest"
    torch_version, cuda = re.fullmatch(r"(\d+\.\d+\.\d+)-cuda(\d+\.\d+)-cudnn\d+-runtime", tag).groups()
    pins = _lock_pins()
    assert torch_version == pins["torch"]
    assert pins["cuda-toolkit"].startswith(cuda + ".")


def test_runs_as_a_non_root_user(dockerfile):
    users = _instructions(dockerfile, "USER")
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_entrypoint_is_the_cli_and_the_default_command_parses(dockerfile):
    entrypoint = json.loads(_instructions(dockerfile, "ENTRYPOINT")[-1])
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint == ["smate-bench"] and scripts["smate-bench"] == "smate.cli:main"
    command = json.loads(_instructions(dockerfile, "CMD")[-1])
    args = build_parser().parse_args(command)
    assert args.command == "run" and args.out == "/app/results"
    assert "data.root=/data" in args.overrides


def test_every_copy_source_exists_and_reaches_the_build_context(dockerfile):
    ignored = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    for value in _instructions(dockerfile, "COPY"):
        *sources, _ = shlex.split(value)
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), f"COPY {source} is in .dockerignore"


def test_installs_from_the_lock_that_ci_installs_from(dockerfile):
    runs = " ".join(_instructions(dockerfile, "RUN"))
    assert f"-r {LOCK}" in runs
    assert f"-r {LOCK}" in (REPO / "Makefile").read_text()
    assert "make install" in (REPO / ".ci" / "run").read_text()


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    done = subprocess.run([hadolint, "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_git_commit_outside_git_comes_from_the_build(tmp_path, monkeypatch):
    monkeypatch.setattr(runinfo, "__file__", str(tmp_path / "runinfo.py"))  # the code installed outside git, as in the image
    monkeypatch.setenv("SMATE_GIT_COMMIT", "0123abc")
    assert runinfo.git_commit() == "0123abc"


def test_git_commit_is_the_codes_wherever_the_run_starts(tmp_path, monkeypatch):
    here = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO)
    if here.returncode:
        pytest.skip("this checkout is not a git repository")
    monkeypatch.chdir(tmp_path)
    assert runinfo.git_commit().split("+")[0] == here.stdout.strip()
