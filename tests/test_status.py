"""`smate-bench status`: which stages a run would redo in a folder, and why, without training anything."""

import json
import shutil

import pytest

from smate.cli import main
from smate.report import layout

from conftest import TINY


@pytest.fixture
def finished(tiny_run, tmp_path):
    """A copy of the session's finished tiny run, to change."""
    out = tmp_path / "tiny"
    shutil.copytree(tiny_run, out)
    return out


def _status(out, capsys, *options):
    code = main(["status", *TINY, "--out", str(out), *options])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("options", [(), ("--no-data",)])
def test_a_finished_run_has_nothing_to_redo(tiny_run, capsys, options):
    code, text = _status(tiny_run, capsys, *options)
    assert code == 0 and "nothing to redo" in text, text
    assert ("keys come from OUT/prepared/'s records" in text) == bool(options)


def test_another_param_redoes_the_stages_that_read_it_and_names_it(finished, capsys):
    code, text = _status(finished, capsys, "--set", "classify.fast.epochs=9")
    assert code == 1
    lines = text.splitlines()
    params = next(line for line in lines if "params classify.fast.epochs 8.0 -> 9.0: " in line)
    # Every classifier run, and the feature and guide nets (fast classifiers too); the GANs read none of it.
    runs = sum(1 for _ in (finished / "runs").iterdir())
    assert f"9.0: {runs + 3} (" in params and "guide_net@0" in params, text
    assert any(line.startswith("  a stage it reads is redone: ") and "transfer_gan@smate_plus-0" in line for line in lines)
    assert "pretrain_gan" not in text


def test_a_changed_code_file_is_named(finished, capsys):
    record_path = layout.key_path(finished, "train@smote-0")
    record = json.loads(record_path.read_text())
    changed = next(name for name in record["made_from"]["code"] if name.endswith("synthetic.py"))
    record["made_from"]["code"][changed] = "0" * 64
    record["key"] = "0" * 64  # as a record made by other code holds another key
    record_path.write_text(json.dumps(record))
    code, text = _status(finished, capsys)
    assert code == 1 and f"code {changed}: 1 (train@smote-0)" in text, text


def test_a_missing_output_and_an_unfinished_stage_are_redone(finished, capsys):
    (layout.run_dir(finished, "smote", 1) / "metrics.json").unlink()
    layout.key_path(finished, "train@adasyn-0").unlink()
    code, text = _status(finished, capsys)
    assert code == 1
    assert "its output is missing: 1 (train@smote-1)" in text and "never finished: 1 (train@adasyn-0)" in text, text


@pytest.mark.parametrize("options, reason", [((), "never finished"), (("--no-data",), "split: seed 2 has no draw yet")])
def test_a_new_seed_is_to_run(tiny_run, capsys, options, reason):
    code, text = _status(tiny_run, capsys, "--set", "seeds=0,1,2", "--set", "methods=smote,class_weight", *options)
    assert code == 1 and "2 of 6 stages to redo" in text, text
    assert f"  {reason}: 2 (train@smote-2, train@class_weight-2)" in text, text


def test_another_draw_of_the_data_redoes_everything_after_it(finished, capsys):
    code, text = _status(finished, capsys, "--set", "data.max_test_per_class=5")
    assert code == 1 and "data: the prepared images" in text, text
    code, text = _status(finished, capsys, "--set", "data.max_test_per_class=5", "--no-data")
    assert code == 1 and "prepare or split: " in text and "data.max_test_per_class=None" in text, text


def test_a_run_that_never_started_has_everything_to_do(tmp_path, capsys):
    code, text = _status(tmp_path / "nothing", capsys)
    assert code == 1 and "never finished: " in text, text
    code, text = _status(tmp_path / "nothing", capsys, "--no-data")
    assert code == 1 and "prepare or split: " in text and "dataset.json' is missing" in text, text
