"""`smate-bench status`: the stages a run (or a sweep) would redo in a results folder, and why. It is DVC's
`status` for the pipeline's own content keys: `run` keeps a stage while its key is unchanged (run.py), so a
stage is redone when it never finished, its output is gone, or its params, code, data or upstream keys moved.
It trains nothing; where data.root is here, it reads and splits the data files again as prepare and split do,
to see whether what the stages read changed."""

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SmateError
from ..report import layout
from . import stages
from .run import Keys, steps
from .stage_registry import DATASET_KEYS
from .sweep import PLAN, check_sweep, read_plan, sweep_values, value_config, value_folder

# What each part of a stage's data digest (keys.data_digest) is, in words.
DATA_PARTS = {"arrays_sha256": "the prepared images", "minority_ids": "the minority classes",
              "split_digest": "its seed's kept train images"}


@dataclass
class Status:
    """One results folder's stages to redo, grouped by why (a stage under each of its reasons), of `total` keyed
    stages, and what was not checked."""

    out: Path
    total: int
    redo: dict = field(default_factory=dict)  # reason -> [stage names]
    notes: list = field(default_factory=list)

    @property
    def stale(self):
        return len({name for names in self.redo.values() for name in names})

    def add(self, name, reasons):
        for reason in reasons:
            self.redo.setdefault(reason, []).append(name)


def folder_status(config, out, check_data=True):
    """The Status of the run that `config` makes in `out`. Where data.root is here (and `check_data`), its files
    are read and split as prepare and split would, so the keys are the ones a run would compute; else they
    come from the records that prepare and split left in OUT/prepared/."""
    out = Path(out)
    plan = steps(config, out, progress=False)
    keyed = [step for step in plan[2:] if step.stage.keyed]
    status = Status(out, len(keyed))
    root = Path(config["data"]["root"])
    if check_data and root.exists():
        prepared = _prepared_now(config)
    else:
        why = "--no-data" if not check_data else f"data.root '{root}' is not here"
        status.notes.append(f"{why}: the keys come from OUT/prepared/'s records, not from the data files")
        try:
            prepared = stages.check_prepared(config, out, seeds=[])
        except SmateError as err:
            for step in keyed:
                status.add(step.name, [f"prepare or split: {err}"])
            return status
    keys, by_name = Keys(config, out, plan, prepared), {step.name: step for step in plan}
    for step in keyed:
        status.add(step.name, _why(step, keys, by_name, prepared[1]["splits"], config))
    return status


def _prepared_now(config):
    """(dataset info, split info) with what the content keys read of them, as prepare and split would make them now."""
    dataset = _dataset(json.dumps({key: config["data"][key] for key in DATASET_KEYS}, sort_keys=True))
    minority_ids, splits = stages.draw_splits(config, dataset)
    return {"arrays_sha256": stages.arrays_digest(dataset)}, {"minority_ids": minority_ids, "splits": splits}


@functools.lru_cache(maxsize=1)
def _dataset(data):
    """The dataset of the params prepare reads, once for a sweep's value folders, which share them."""
    from ..data import load_from_params

    return load_from_params(json.loads(data))


def _why(step, keys, by_name, splits, config):
    """Why `run` would redo `step`: [reasons], none when it would keep it."""
    unsplit = _undrawn_seed(step, by_name, splits, config)
    if unsplit is not None:
        return [f"split: seed {unsplit} has no draw yet"]
    try:
        record = json.loads(layout.key_path(step.out, step.name).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return ["never finished"]
    if step.output is None or not step.output.exists():
        return ["its output is missing"]
    if record.get("key") == keys(step.name):
        return []
    if "made_from" not in record:
        return ["its params, code or data changed (its record, from before the parts were kept, says no more)"]
    return _what_changed(record["made_from"], json.loads(json.dumps(keys.parts(step.name), default=str)))


def _undrawn_seed(step, by_name, splits, config):
    """A split seed that `step` or a stage whose key it reads needs and split.json does not hold yet."""
    seed = step.stage.split_seed(config, step.fields)
    if seed is not None and str(seed) not in splits:
        return seed
    for before in step.keyed_on:
        missing = _undrawn_seed(by_name[before], by_name, splits, config)
        if missing is not None:
            return missing
    return None


def _what_changed(old, new):
    """The parts of a key that moved between its record (`old`) and now (`new`), a line each."""
    lines = []
    params_old, params_new = _flat(old["params"]), _flat(new["params"])
    params = _moved(params_old, params_new)
    if params:
        lines.append("params " + ", ".join(f"{name} {_value(params_old, name)} -> {_value(params_new, name)}"
                                           for name in params))
    code = _moved(old["code"], new["code"])
    if code:
        lines.append("code " + ", ".join(code))
    data = _moved(old["data"], new["data"])
    if data:
        lines.append("data: " + ", ".join(DATA_PARTS.get(part, part) for part in data))
    if _moved(old["upstream"], new["upstream"]):
        lines.append("a stage it reads is redone")
    return lines or ["its key changed"]


def _moved(old, new):
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def _flat(params, prefix=""):
    """{dotted name: value}, nested dicts opened, so that a change names the one param that moved."""
    flat = {}
    for name, value in params.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[prefix + name] = value
    return flat


def _value(params, name):
    return repr(params[name]) if name in params else "(none)"


def status(config, out, check_data=True):
    """[Status] of `out`: one for a run's folder, one per value for a sweep's (a folder holding sweep.json)."""
    out = Path(out)
    if not (out / PLAN).is_file():
        return [folder_status(config, out, check_data)]
    check_sweep(config)
    over, made = config["sweep"]["over"], read_plan(out)["over"]
    if made != over:
        raise SmateError(f"'{out}' holds a sweep over {made}, and the params sweep over {over}; "
                         "name the preset that made it")
    return [folder_status(value_config(config, over, value), value_folder(out, over, value), check_data)
            for value in sweep_values(config)]


def describe(statuses, shown=4):
    """The lines `smate-bench status` prints: each folder's stages to redo, grouped by why."""
    lines = []
    for folder in statuses:
        if not folder.stale:
            lines.append(f"{folder.out}: nothing to redo; its {folder.total} stages finished with these params, code and data")
        else:
            lines.append(f"{folder.out}: {folder.stale} of {folder.total} stages to redo")
            for reason, names in folder.redo.items():
                more = f" and {len(names) - shown} more" if len(names) > shown else ""
                lines.append(f"  {reason}: {len(names)} ({', '.join(names[:shown])}{more})")
        lines += [f"  note: {note}" for note in folder.notes]
    return lines
