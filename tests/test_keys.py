"""Content keys: `smate-bench run` keys each stage on the code and params dvc.yaml names for it."""

import re

import pytest
import yaml

from smate import keys
from smate.config import build_config

from conftest import REPO

# A foreach stage keeps its body under `do:`.
DVC_STAGES = {name: stage.get("do", stage) for name, stage in yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"].items()}
KEYED = sorted(keys.STAGE_PARAMS)


def _template(name):
    """dvc.yaml's ${item.method} and ${classify.model} as keys.py writes them."""
    return re.sub(r"\$\{(?:item\.)?(?:classify\.)?(\w+)\}", r"{\1}", name)


@pytest.mark.parametrize("stage", KEYED)
def test_each_stage_is_keyed_on_the_modules_dvc_yaml_lists(stage):
    listed = [dep for dep in DVC_STAGES[stage]["deps"] if dep.startswith("smate/")]
    expected = list(keys.STAGE_CODE[stage])
    if stage in ("train", "train_gan"):
        # run narrows the package to the method's own modules (keys.method_code); DVC lists all of it.
        expected.insert(0, "smate/rebalance")
    assert sorted(listed) == sorted(expected)


@pytest.mark.parametrize("stage", KEYED)
def test_each_stage_is_keyed_on_the_params_dvc_yaml_lists(stage):
    listed = [_template(name) for name in DVC_STAGES[stage].get("params", [])]
    assert listed == list(keys.STAGE_PARAMS[stage])


def test_a_methods_code_is_its_class_module_and_the_shared_base():
    assert keys.method_code("smote") == ("smate/rebalance/_base.py", "smate/rebalance/synthetic.py")
    assert keys.method_code("smate") == ("smate/rebalance/_base.py", "smate/rebalance/generated.py")


def test_keys_change_with_their_own_params_only():
    config = build_config(preset="tiny")
    data = {"source_sha256": "x", "kept_sha256": "y"}

    def key(cfg, method="smote"):
        return keys.stage_key(cfg, "train", data, fields={"method": method}, extra={"method": method, "seed": 0})

    other = build_config(preset="tiny", overrides=["rebalance.adasyn.n_neighbors=4", "gan.pretrain.epochs=9"])
    assert key(config) == key(other)
    changed = build_config(preset="tiny", overrides=["rebalance.smote.k_neighbors=4"])
    assert key(config) != key(changed)
    assert key(config) != keys.stage_key(config, "train", {**data, "kept_sha256": "z"}, fields={"method": "smote"},
                                         extra={"method": "smote", "seed": 0})
