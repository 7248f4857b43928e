from pathlib import Path

import pytest
import yaml

from smate.config import apply_override, build_config, defaults, generator_methods, plain_methods, preset_names
from smate.errors import SmateError
from smate.rebalance import REBALANCERS
from smate.report.records import upgrade

REPO = Path(__file__).resolve().parents[1]


def test_params_yaml_is_the_paper_protocol():
    assert yaml.safe_load((REPO / "params.yaml").read_text()) == yaml.safe_load((REPO / "smate/presets/paper.yaml").read_text())
    params = build_config(params_file=REPO / "params.yaml")
    assert params == build_config()
    assert params["data"]["minority"] == "truck"
    assert params["data"]["ratio"] == 0.1
    assert params["seeds"] == [0, 1, 2, 3, 4]


def test_every_registered_method_has_params_and_runs_in_the_paper_protocol():
    assert set(defaults()["rebalance"]) == set(REBALANCERS)
    assert sorted(build_config()["methods"]) == sorted(REBALANCERS)


def test_methods_may_be_named_by_family_or_all_and_each_runs_once():
    from smate.rebalance import FAMILIES, family_of

    chosen = build_config(overrides=["methods=smote,sampling,reference,decoupled"])["methods"]
    assert chosen[0] == "smote" and len(chosen) == len(set(chosen))
    assert set(chosen) == {m for m in REBALANCERS if family_of(m) in ("sampling", "reference", "decoupled")}
    everything = build_config(overrides=["methods=all"])["methods"]
    assert sorted(everything) == sorted(REBALANCERS)
    assert [family_of(m) for m in everything] == sorted((family_of(m) for m in everything), key=list(FAMILIES).index)
    with pytest.raises(SmateError, match="unknown method 'samplers' in methods; .* or all"):
        build_config(overrides=["methods=samplers"])


def test_a_methods_own_defaults_are_its_params_where_paper_yaml_names_none():
    from smate.rebalance import default_params

    assert defaults()["rebalance"]["smote"] == default_params(REBALANCERS["smote"]) == {"k_neighbors": 5}
    assert all(defaults()["rebalance"][m] == default_params(cls) for m, cls in REBALANCERS.items())


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_builds(name):
    config = build_config(preset=name)
    assert config["methods"]


def test_smoke_preset_runs_every_method_with_two_seeds():
    config = build_config(preset="smoke")
    assert config["methods"] == build_config()["methods"]
    assert generator_methods(config) == ["smate", "smate_plus", "smate_diffaugment", "cgan", "smate_noaug", "gan_minority"]
    assert config["seeds"] == [0, 1]


def test_overrides_parse_lists_scalars_and_keep_types():
    config = build_config(overrides=["methods=smote,adasyn", "seeds=3", "data.ratio=0.05", "data.minority=truck,cat",
                                     "classify.fast.epochs=2", "data.max_train_per_class=10"])
    assert config["methods"] == ["smote", "adasyn"]
    assert config["seeds"] == [3]
    assert config["data"]["ratio"] == 0.05
    assert config["data"]["minority"] == ["truck", "cat"]
    assert config["classify"]["fast"]["epochs"] == 2.0 and isinstance(config["classify"]["fast"]["epochs"], float)
    assert config["data"]["max_train_per_class"] == 10


def test_a_list_override_may_be_written_as_yaml():
    config = build_config(overrides=["methods=[smote, adasyn]", "seeds=[3,4]"])
    assert config["methods"] == ["smote", "adasyn"]
    assert config["seeds"] == [3, 4]


def test_layering_params_file_then_preset_then_set(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("data:\n  ratio: 0.5\n  seed: 7\n")
    config = build_config(params, "tiny", ["data.ratio=0.3"])
    assert config["data"]["seed"] == 7  # from the file
    assert config["data"]["root"] == "tests/fixtures/cifar10-mini"  # from the preset
    assert config["data"]["ratio"] == 0.3  # from --set, last


@pytest.mark.parametrize("override, message", [
    ("data.ratio=0", "data.ratio must be in (0, 1]"),
    ("data.ratio=1.5", "data.ratio must be in (0, 1]"),
    ("methods=smote,bogus", "unknown method 'bogus'"),
    ("data.nonsense=1", "unknown parameter 'data.nonsense'"),
    ("data.ratio=abc", "must be float"),
    ("seeds=-1", "seeds must be"),
    ("data.seed=every", "data.seed must be run .each run seed draws its own kept images. or a non-negative integer"),
    ("data.seed=-2", "data.seed must be run"),
    ("gan.generators=shared", "gan.generators must be one of per_seed, shared_pretrain, single"),
    ("classify.model=resnet", "unknown classify.model"),
    ("methods=", "methods is empty"),
    ("gan_methods=smate", "gan_methods is gone; every method, generator ones included, goes in methods"),
    ("gan.train.loss=wasserstein", "unknown gan.train.loss 'wasserstein'"),
    ("gan.train.architecture=stylegan", "unknown gan.train.architecture"),
    ("ratio", "has no '='"),
    ("methods=[smote", "--set value '.smote' cannot be read"),
    ("classify.bf16=sometimes", "'classify.bf16' must be auto, true or false"),
    ("gan.train.bf16=1", "'gan.train.bf16' must be auto, true or false"),
    ("classify.budget=minutes", "classify.budget must be epochs or steps"),
    ("classify.eval_every=0", "classify.eval_every must be a positive number of epochs"),
])
def test_bad_overrides_name_the_problem(override, message):
    with pytest.raises(SmateError, match=message.replace("(", r"\(").replace("]", r"\]")):
        build_config(overrides=[override])


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(SmateError, match="smoke"):
        build_config(preset="nope")


def test_unknown_key_in_params_file(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("classify:\n  fast:\n    epoch: 3\n")
    with pytest.raises(SmateError, match="unknown parameter 'classify.fast.epoch'"):
        build_config(params)


def test_an_empty_list_override_clears_it():
    config = build_config(overrides=["sweep.methods="])
    assert config["sweep"]["methods"] == []


def test_one_methods_list_holds_generator_methods_and_the_pipeline_sorts_them_out():
    config = build_config(overrides=["methods=smate,imbalanced,gan_minority"])
    assert generator_methods(config) == ["smate", "gan_minority"] and plain_methods(config) == ["imbalanced"]
    # A run recorded before one list kept its generator methods apart; the report reads it in today's shape.
    recorded = upgrade({"params": {"methods": ["imbalanced"], "gan_methods": ["smate"], "data": {"ratio": 0.1}}})["params"]
    assert generator_methods(recorded) == ["smate"] and plain_methods(recorded) == ["imbalanced"]
    assert "gan_methods" not in recorded and recorded["data"] == {"profile": "minority", "ratio": 0.1}


def test_an_old_gan_methods_list_stops_with_the_one_list_to_write(tmp_path):
    params = tmp_path / "old.yaml"
    params.write_text("methods: [imbalanced, smote]\ngan_methods: [smate]\n")
    with pytest.raises(SmateError, match=r"old.yaml: gan_methods is gone.*methods: \[imbalanced, smote, smate\]$"):
        build_config(params)
    # The old list named every generator method a run trained: it replaces those in the default methods.
    with pytest.raises(SmateError, match=r"--set: gan_methods is gone.*methods: \[imbalanced, full, .*, samme, smate\]$"):
        build_config(overrides=["gan_methods=smate"])


def test_override_does_not_mutate_its_input():
    config = defaults()
    apply_override(config, "data.ratio=0.5")
    assert config["data"]["ratio"] == 0.1


def test_a_preset_extends_another_key_by_key(tmp_path):
    cpu, authors = build_config(preset="paper-cpu"), build_config(preset="paper-cpu-authors")
    assert authors["gan"] == cpu["gan"] and authors["data"] == cpu["data"] and authors["seeds"] == [0, 1, 2]
    assert authors["methods"] == ["full", "imbalanced", "undersample", "oversample", "smote", "adasyn", "class_weight", "smate"]
    assert (cpu["classify"]["keras_cnn"]["recipe"], authors["classify"]["keras_cnn"]["recipe"]) == ("ours", "authors")
    assert authors["classify"]["model"] == cpu["classify"]["model"] == "keras_cnn"
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: paper-cpu-authors\nclassify:\n  keras_cnn:\n    epochs: 3\n")
    layered = build_config(preset=str(mine))
    assert layered["classify"]["keras_cnn"] == {**authors["classify"]["keras_cnn"], "epochs": 3}
    assert layered["gan"] == cpu["gan"]
