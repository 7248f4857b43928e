"""The pieces of `make image-check` that run without a builder: pip's mounts, the summary comparison, the local base."""

import csv
import re

from dockerfile_parse import DockerfileParser

from benchmark.image import compare_summaries, pip_mounts
from conftest import REPO


def test_pip_mounts_carry_the_config_files_and_every_local_path_they_name(tmp_path):
    index, wheels, cert = tmp_path / "pypi" / "simple", tmp_path / "wheels", tmp_path / "certs" / "ca.crt"
    for folder in (index, wheels, cert.parent):
        folder.mkdir(parents=True)
    cert.write_text("")
    config = tmp_path / "pip.conf"
    config.write_text("")
    debug = f"""env_var:
  PIP_DEFAULT_TIMEOUT='180'
global:
  {config}, exists: True
    global.cert: {cert}
    global.timeout: 60
  {tmp_path}/absent.conf, exists: False
user:
  {config}, exists: True
    global.find-links: {wheels} https://example.org/wheels
    global.extra-index-url: file://{index} https://pypi.example.org/simple
    global.constraint: {tmp_path}/gone.txt
"""
    # The index's pages link to ../../files/, so its parent goes in; URLs and missing paths stay out.
    assert pip_mounts.pip_paths(debug) == sorted([str(cert), str(config), str(tmp_path / "pypi"), str(wheels)])


def test_pip_mounts_skip_a_path_under_one_already_mounted(tmp_path):
    (tmp_path / "pypi" / "simple").mkdir(parents=True)
    debug = f"    global.find-links: {tmp_path}/pypi/simple\n    global.index-url: file://{tmp_path}/pypi/simple\n"
    assert pip_mounts.pip_paths(debug) == [str(tmp_path / "pypi")]


def _summary(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=rows[0])
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_summaries_compare_every_cell_but_the_seconds(tmp_path):
    host = _summary(tmp_path / "host.csv", [{"method": "smote", "accuracy_mean": "0.190000", "train_seconds_mean": "0.5"},
                                            {"method": "full", "accuracy_mean": "0.200000", "train_seconds_mean": "0.6"}])
    same = _summary(tmp_path / "same.csv", [{"method": "full", "accuracy_mean": "0.200000", "train_seconds_mean": "9.1"},
                                            {"method": "smote", "accuracy_mean": "0.190000", "train_seconds_mean": "9.2"}])
    moved = _summary(tmp_path / "moved.csv", [{"method": "full", "accuracy_mean": "0.200000", "train_seconds_mean": "0.6"},
                                              {"method": "smote", "accuracy_mean": "0.195000", "train_seconds_mean": "0.5"},
                                              {"method": "adasyn", "accuracy_mean": "0.1", "train_seconds_mean": "0.5"}])
    assert compare_summaries.differences(host, same) == []
    assert compare_summaries.main(host, same) == 0
    assert compare_summaries.differences(host, moved) == ["method adasyn: only in the image's run",
                                                          "smote.accuracy_mean: host 0.190000, image 0.195000"]
    assert compare_summaries.main(host, moved) == 1


def test_the_base_is_a_build_argument_whose_default_is_the_cuda_image():
    dockerfile = (REPO / "Dockerfile").read_text()
    default = re.search(r"^ARG BASE_IMAGE=(\S+)$", dockerfile, re.M).group(1)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", dockerfile, re.M)
    assert default == DockerfileParser(str(REPO / "Dockerfile")).baseimage


def test_the_local_base_installs_the_locked_torch_and_puts_python_on_path():
    parser = DockerfileParser(str(REPO / "benchmark" / "image" / "local-base.Dockerfile"))
    runs = " ".join(item["value"] for item in parser.structure if item["instruction"] == "RUN")
    assert "-c /tmp/requirements.lock torch torchvision" in runs
    assert parser.envs["PATH"].startswith("/opt/venv/bin:")
