"""dvc.yaml and sweep/dvc.yaml are written from the stage declarations: the committed files are what
`smate-bench dvc-yaml` writes, and what it writes covers every module each stage's keys hold, every param it
declares and every file it reads and writes."""

import yaml

from smate.cli import main
from smate.pipeline import dvc_yaml
from smate.pipeline.declared import covers
from smate.pipeline.stage_registry import STAGES
from smate.rebalance import REBALANCERS

from conftest import REPO


def test_the_committed_files_are_what_dvc_yaml_writes():
    for name, text in dvc_yaml.files().items():
        assert (REPO / name).read_text() == text, f"{name} differs from the declarations; run `smate-bench dvc-yaml`"


def test_dvc_yaml_writes_both_files_where_it_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["dvc-yaml"]) == 0
    assert (tmp_path / "dvc.yaml").read_text() == dvc_yaml.main_yaml()
    assert (tmp_path / "sweep" / "dvc.yaml").read_text() == dvc_yaml.sweep_yaml()
    assert main(["dvc-yaml"]) == 0 and "up to date" in capsys.readouterr().out


def _deps_cover(deps, module):
    return any(module == dep or module.startswith(dep + "/") for dep in deps)


def _instances(spec):
    labels = [label for label in ("method", "variant") if label in spec.label]
    return [{label: method for label in labels} for method in REBALANCERS] if labels else [{}]


def test_each_stage_of_dvc_yaml_reads_and_writes_what_its_declarations_say():
    stages = yaml.safe_load(dvc_yaml.main_yaml())["stages"]
    for spec in STAGES.values():
        entry = stages[spec.group or spec.name]
        for fields in _instances(spec):
            for module in spec.modules(fields):
                assert _deps_cover(entry["deps"], module), (spec.name, module)
        for path in spec.inputs:
            assert path.format(out="results") in entry["deps"], (spec.name, path)
        outs = [next(iter(o)) if isinstance(o, dict) else o for o in entry.get("outs", []) + entry.get("metrics", [])]
        for output in spec.outputs:
            assert output.path.format(out="results") in outs, (spec.name, output.path)
        declared = {param.split(".{")[0] for param in spec.params}
        assert all(covers(entry.get("params", []), param) for param in declared), spec.name


def test_the_sweep_reads_every_module_and_param_of_its_runs_stages_but_methods():
    entry = yaml.safe_load(dvc_yaml.sweep_yaml())["stages"]["sweep"]
    for spec in (spec for spec in STAGES.values() if spec.name != "report"):  # a sweep's runs write no report of their own
        for fields in _instances(spec):
            for module in spec.modules(fields):
                assert _deps_cover(entry["deps"], module), (spec.name, module)
        assert all(covers(entry["params"], param.split(".{")[0]) for param in spec.params if param != "methods")
    assert "sweep" in entry["params"] and "methods" not in entry["params"]
