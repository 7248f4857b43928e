"""Content keys and the stage registry: each stage is declared once, computes through a view of the params
it declared, and its key holds every param, module and piece of data its output depends on; dvc.yaml's
stages read at least as much as the stages they run, so DVC never misses a change that a key would catch."""

import ast
import dataclasses
import json

import numpy as np
import pytest
import yaml

from smate.pipeline import keys, stage_registry, stages
from smate.config import build_config, defaults
from smate.pipeline.declared import DeclaredParams, UndeclaredParam
from smate.pipeline import Keys, steps
from smate.rebalance import REBALANCERS
from smate.pipeline.stage_registry import GROUPS, STAGES

from conftest import FIXTURE, REPO

DVC_STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
# Modules the stages import that compute nothing their outputs hold: errors, file writing, paths, provenance,
# the params, and the decoding, whose output the keys hold as the prepared arrays' digest.
NOT_COMPUTING = {"smate/errors.py", "smate/atomic.py", "smate/report/layout.py", "smate/pipeline/runinfo.py",
                 "smate/config.py", "smate/data", "smate/report", "smate/pipeline/stage_registry.py",
                 "smate/pipeline/shape_checks.py",  # refuses a size the models cannot take; computes nothing
                 "smate/pipeline/stages.py"}  # the prepared data, read back: the keys hold its digest


def _fields(spec, method):
    """An instance's method or variant field, where the stage has one."""
    return {name: method for name in ("method", "variant") if name in spec.label}


def _tiny(*overrides):
    return build_config(preset="tiny", overrides=[f"data.root={FIXTURE}", *overrides])


def test_dvc_runs_every_group_and_the_train_stage_every_methods_code():
    assert set(GROUPS) <= set(DVC_STAGES) and "smate/rebalance" in DVC_STAGES["train"]["deps"]
    for group, names in GROUPS.items():
        assert DVC_STAGES[group]["cmd"].startswith(f"smate-bench run --only {group}"), group


def test_every_declared_param_is_a_param():
    config = defaults()
    for spec in STAGES.values():
        for name in spec.declared(config, {"method": "smote"}):
            keys.lookup(config, name)  # a KeyError names a declaration of a param that does not exist


def test_the_stages_import_no_computing_module_that_no_stage_declares():
    """A module stages.py, train.py or gan_stages.py starts to use reaches the keys, or this fails."""
    for module in ("stages", "train", "gan_stages"):
        tree = ast.parse((REPO / "smate" / "pipeline" / f"{module}.py").read_text())
        imported = {f"smate/{'pipeline/' if node.level == 1 else ''}{node.module.replace('.', '/')}" for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level in (1, 2) and node.module}
        declared = {m for spec in STAGES.values() if spec.run.startswith(f"pipeline.{module}.")
                    for method in REBALANCERS for m in spec.modules(_fields(spec, method))}
        for name in imported:
            found = name + ".py" if (REPO / f"{name}.py").is_file() else name
            inside = any(found.startswith(d + "/") or d.startswith(found + "/") for d in declared)
            assert found in declared | NOT_COMPUTING or inside, (module, found)


def test_a_methods_code_is_its_class_module_the_shared_base_and_the_stage():
    modules = STAGES["train"].modules({"method": "smote"})
    assert {"smate/pipeline/train.py", "smate/rebalance/_base.py", "smate/rebalance/synthetic.py"} <= set(modules)
    assert "smate/rebalance/generated.py" in STAGES["train"].modules({"method": "smate"})


def test_a_generator_methods_class_is_in_its_gan_stages_keys():
    """Its class says whether its generators transfer, see augmented images or a guide."""
    for name in ("transfer_gan", "synthesize"):
        assert "smate/rebalance/generated.py" in STAGES[name].modules({"variant": "smate_noaug"}), name


def test_the_nets_that_train_through_augmentation_have_it_in_their_keys():
    for name in ("feature_net", "guide_net", "transfer_gan", "train"):
        assert "smate/data/augment.py" in STAGES[name].modules(), name
    for name in ("pretrain_gan", "transfer_gan", "synthesize", "gan_quality", "guide_net", "feature_net"):
        assert {"smate/pipeline/gan_stages.py", "smate/pipeline/stages.py"} <= set(STAGES[name].modules()), name


def test_a_view_gives_what_was_declared_and_refuses_the_rest():
    config = defaults()
    view = DeclaredParams(config, ("classify.model", "gan.train"), "demo")
    assert view["classify"]["model"] == "fast" and view["gan"]["train"] == config["gan"]["train"]
    assert view["classify"].get("nothing here", 7) == 7  # a missing key stays a KeyError, as in a dict
    for read in (lambda: view["classify"]["device"], lambda: view["seeds"], lambda: view["gan"].get("seed")):
        with pytest.raises(UndeclaredParam, match="stage demo read"):
            read()


def test_a_stage_that_reads_a_param_it_did_not_declare_stops(tmp_path, monkeypatch):
    config = _tiny("methods=smote", "seeds=0")
    for name in ("prepare", "split"):
        stage_registry.execute(name, config, tmp_path, {}, progress=False)
    forgetful = dataclasses.replace(STAGES["train"], params=tuple(p for p in STAGES["train"].params if p != "classify.budget"))
    monkeypatch.setitem(STAGES, "train", forgetful)
    with pytest.raises(UndeclaredParam, match="stage train@smote-0 read 'classify.budget'"):
        stage_registry.execute("train", config, tmp_path, {"method": "smote", "seed": 0}, progress=False)


def _train_key(config, out, name="train@smote-0"):
    for stage in ("prepare", "split"):
        stage_registry.execute(stage, config, out, {}, progress=False)
    return Keys(config, out, steps(config, out))(name)


def test_keys_change_with_their_own_params_only(tmp_path):
    config = _tiny("methods=smote,adasyn,smate", "seeds=0")
    key = _train_key(config, tmp_path)
    assert key == _train_key(_tiny("methods=smote,adasyn,smate", "seeds=0", "rebalance.adasyn.n_neighbors=4",
                                   "gan.pretrain.epochs=9"), tmp_path)
    assert key != _train_key(_tiny("methods=smote,adasyn,smate", "seeds=0", "rebalance.smote.k_neighbors=4"), tmp_path)
    assert key != Keys(config, tmp_path, steps(config, tmp_path))("train@adasyn-0")


def test_other_minority_classes_change_the_keys_where_the_kept_images_do_not(tmp_path):
    """Under the exp profile the minority classes do not choose the kept images, but they are what the runs score."""
    exp = ("data.profile=exp", "data.imbalance_factor=2", "methods=smote", "seeds=0")
    trucks = _train_key(_tiny(*exp), tmp_path)
    split = json.loads((tmp_path / "prepared" / "split.json").read_text())
    cats = _train_key(_tiny(*exp, "data.minority=cat"), tmp_path)
    assert json.loads((tmp_path / "prepared" / "split.json").read_text())["splits"] == split["splits"]
    assert trucks != cats


def test_another_test_set_changes_the_keys(tmp_path):
    grid = ("methods=smote", "seeds=0")
    assert _train_key(_tiny(*grid), tmp_path) != _train_key(_tiny(*grid, "data.max_test_per_class=5"), tmp_path)


def test_other_decoded_pixels_change_the_keys(tmp_path, monkeypatch):
    """A change to the decoding (smate/data/) that changes the images reruns what read them."""
    config = _tiny("methods=smote", "seeds=0")
    before = _train_key(config, tmp_path)
    decode = stages.load_from_params

    def brighter(*args, **kwargs):
        dataset = decode(*args, **kwargs)
        dataset.train_images[0, 0, 0, 0] ^= 1
        return dataset

    monkeypatch.setattr(stages, "load_from_params", brighter)
    assert _train_key(config, tmp_path) != before


def test_the_data_digest_is_of_the_arrays_and_the_split(tmp_path):
    config = _tiny("methods=smote", "seeds=0")
    _train_key(config, tmp_path)
    info = json.loads((tmp_path / "prepared" / "dataset.json").read_text())
    assert info["arrays_sha256"] == stages.arrays_digest(stages.load_prepared(tmp_path))
    with np.load(tmp_path / "prepared" / "dataset.npz") as arrays:
        assert len(arrays["test_labels"]) == 100


def test_a_dataset_prepared_by_older_code_asks_for_prepare_in_one_line(tmp_path, capsys):
    from smate.cli import main

    _train_key(_tiny("methods=smote", "seeds=0"), tmp_path)
    path = tmp_path / "prepared" / "dataset.json"
    path.write_text(json.dumps({k: v for k, v in json.loads(path.read_text()).items() if k != "arrays_sha256"}))
    args = ["--preset", "tiny", "--set", f"data.root={FIXTURE}", "--set", "methods=smote", "--set", "seeds=0", "--quiet"]
    assert main(["run", *args, "--only", "train", "--out", str(tmp_path)]) == 2
    assert "was made by an older smate-bench; rerun `smate-bench prepare`" in capsys.readouterr().err
