"""Content keys: `smate-bench run` keys each stage on its own code and params, and dvc.yaml's grouped
stages read at least as much, so DVC never misses a change that a key would catch."""

import pytest
import yaml

from smate import keys
from smate.config import build_config
from smate.pipeline import GROUPS

from conftest import REPO

DVC_STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def _covered(name, listed):
    return any(name == entry or name.startswith(entry + ".") for entry in listed)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_each_dvc_group_depends_on_its_stages_modules(group):
    deps = DVC_STAGES[group]["deps"]
    for kind in GROUPS[group]:
        for module in keys.STAGE_CODE[kind]:
            assert any(module == dep or module.startswith(dep + "/") for dep in deps), (kind, module)
    if group == "train":
        assert "smate/rebalance" in deps  # every method's module (keys.method_code)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_each_dvc_group_reads_its_stages_params(group):
    config = build_config(preset="tiny")
    listed = [name.replace("${classify.model}", config["classify"]["model"]) for name in DVC_STAGES[group]["params"]]
    for kind in GROUPS[group]:
        for name in keys.stage_params(config, kind, {"method": "smote"}):
            source = keys.DERIVED[name][0] if name in keys.DERIVED else name
            assert _covered(source, listed), (kind, name)


def test_a_methods_code_is_its_class_module_and_the_shared_base():
    assert keys.method_code("smote") == ("smate/rebalance/_base.py", "smate/rebalance/synthetic.py")
    assert keys.method_code("smate") == ("smate/rebalance/_base.py", "smate/rebalance/generated.py")


def test_keys_change_with_their_own_params_only():
    config = build_config(preset="tiny")
    data = {"source_sha256": "x", "kept_sha256": "y"}

    def key(cfg, method="smote", kept="y"):
        return keys.stage_key(cfg, "train", {**data, "kept_sha256": kept}, fields={"method": method},
                              extra={"method": method, "seed": 0})

    other = build_config(preset="tiny", overrides=["rebalance.adasyn.n_neighbors=4", "gan.pretrain.epochs=9"])
    assert key(config) == key(other)
    assert key(config) != key(build_config(preset="tiny", overrides=["rebalance.smote.k_neighbors=4"]))
    assert key(config) != key(config, kept="z")
    assert key(config) != key(config, method="adasyn")
