"""Every stage in order, without DVC: what `smate-bench run` and `smate-bench regimes` do.

A stage that finishes leaves OUT/keys/<stage>.json with its content key (keys.py) and its
wall time; a later run keeps the stage while its key is unchanged, whatever else a commit changed.
"""

import json
import signal
import threading
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from tqdm import tqdm

from .. import atomic
from ..classify import REGIMES
from ..config import apply_override
from ..report import layout
from . import eta, out_lock, stage_registry, stages
from .keys import data_digest, key_parts, stage_key
from .local_executor import LocalExecutor, interrupt, timed
from .stage_registry import GROUPS


def steps(config, out, progress=True, reference=None, reproduction=None):
    """Every stage of a run, in dvc.yaml's order, as named calls (the GPU timing run times each)."""
    return stage_registry.plan(config, out, progress, reference, reproduction)


class Keys:
    """Each step's content key, from its declared params and code, the data it reads and its upstream
    steps' keys. Computed once the split exists, since every keyed step reads it."""

    def __init__(self, config, out, plan, prepared_info=None):
        """`prepared_info`: (dataset info, split info) as prepare and split would write them (default: read from OUT)."""
        self.config, self.out = config, Path(out)
        self.by_name = {step.name: step for step in plan}
        self.cache, self.prepared_info = {}, prepared_info

    def __call__(self, name):
        return self._computed(name)[0]

    def parts(self, name):
        """What the key of `name` is made from (keys.key_parts), recorded beside it for `smate-bench status`."""
        return self._computed(name)[1]

    def _computed(self, name):
        if name not in self.cache:
            step = self.by_name[name]
            upstream = {before: self(before) for before in step.keyed_on if self.by_name[before].stage.keyed}
            data = data_digest(*self._prepared(), step.stage.split_seed(self.config, step.fields))
            self.cache[name] = (stage_key(step.stage, self.config, data, upstream.values(), step.fields),
                                key_parts(step.stage, self.config, data, upstream, step.fields))
        return self.cache[name]

    def _prepared(self):
        if self.prepared_info is None:
            folder = layout.prepared_dir(self.out)
            self.prepared_info = tuple(json.loads((folder / name).read_text()) for name in ("dataset.json", "split.json"))
        return self.prepared_info


def finished(out, step, key):
    """Whether `step` finished before with this content key and its output is still there."""
    try:
        record = json.loads(layout.key_path(out, step.name).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    return record.get("key") == key and step.output is not None and step.output.exists()


def run_all(config, out, progress=True, reference=None, reproduction=None, executor=None, only=None):
    """Every stage; with `reference` (the paper's numbers) also the report in OUT/report/. A stage
    finished before with the same content key (params, code, data, upstream stages) is kept, so a
    killed run resumes. `executor` runs the stages: a local_executor.LocalExecutor (default: one
    worker, this process) or a ray_executor.RayCluster. `only` (a key of GROUPS) runs that group's
    stages alone, on a split made before. OUT/stages.json records each stage's status and wall time."""
    out = Path(out)
    executor = executor or LocalExecutor()
    with out_lock.holding(out):
        start = time.perf_counter()
        plan = steps(config, out, progress and executor.in_process, reference, reproduction)
        log = {**executor.describe(), "stages": {}}
        earlier = _earlier_seconds(out)
        if only is None:
            for step in plan[:2]:  # prepare and split: every key needs the split
                _record(out, log, step.name, "ran", executor.run_one(step))
        elif (out / "stages.json").is_file():
            log["stages"] = json.loads((out / "stages.json").read_text())["stages"]
        info, _ = stages.check_prepared(config, out)  # one clear line when the data or the split is missing or stale
        chosen = [step for step in plan[2:] if only is None or step.kind in GROUPS[only]]
        if only:
            (out / "gan").mkdir(parents=True, exist_ok=True)  # dvc.yaml's output, even with no GAN method to train
        keys = Keys(config, out, plan)
        pending = []
        for step in chosen:
            if step.stage.keyed and finished(out, step, keys(step.name)):
                seconds = json.loads(layout.key_path(out, step.name).read_text()).get("seconds")
                _record(out, log, step.name, "kept", seconds)
            else:
                pending.append(step)
        kept = len(chosen) - len(pending)
        if kept:
            print(f"run: {kept} stages kept, finished before with the same params, code and data")
        to_train = sum(step.kind == "train" for step in pending)
        if to_train:
            from .shape_checks import warn_if_slow

            warn_if_slow(config, info["image_shape"], len(info["classes"]), sum(info["train_counts"].values()), to_train,
                         log.get("workers", 1))
        bar = tqdm(total=len(pending), desc="stages", unit="stage", disable=not progress)
        time_left = eta.TimeLeft(out, chosen, log.get("workers", 1), earlier)
        left = {step.name for step in pending}
        bar.set_postfix_str(eta.describe(time_left.seconds(left)))
        try:
            with sigterm_interrupts():
                executor.run(pending, partial(_finish, out, log, keys, bar, time_left, left))
        finally:
            bar.close()
        seconds = time.perf_counter() - start
        log["wall_seconds"] = seconds
        atomic.write_json(out / "stages.json", log)
        runs = sum(step.kind == "train" for step in chosen)
        where = "" if only else f"; summary in {out / 'summary.md'}"
        print(f"run: {len(chosen)} stages, {runs} of them classifier runs, {kept} kept, in {seconds:.1f} s{where}")


def run_step(config, out, name, progress=True):
    """One stage instance by its name (train@smote-0: what the CLI's stage commands run), leaving its key
    so that `smate-bench run` keeps it. A stage the params give nothing to do says so."""
    with out_lock.holding(out):
        plan = {step.name: step for step in steps(config, out, progress)}
        if name not in plan:
            print(f"{name}: nothing to do, no method in methods needs it")
            return
        step = plan[name]
        if step.stage.reads != "nothing":
            # One stage reads its own seed's split alone.
            own = step.stage.split_seed(config, step.fields)
            stages.check_prepared(config, out, with_split=step.stage.reads == "split", seeds=None if own is None else [own])
        seconds = timed(step.run)
        if step.stage.keyed:
            _write_key(out, name, Keys(config, out, plan.values()), seconds)


def _earlier_seconds(out):
    """{stage: seconds} from the folder's last stages.json, before this run writes its own."""
    try:
        stages_run = json.loads((Path(out) / "stages.json").read_text())["stages"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return {}
    return {name: record["seconds"] for name, record in stages_run.items() if record.get("seconds") is not None}


def _finish(out, log, keys, bar, time_left, left, step, seconds, attempts=1):
    if step.stage.keyed:
        _write_key(out, step.name, keys, seconds)
    _record(out, log, step.name, "ran", seconds, attempts)
    time_left.finished(step.name, seconds)
    left.discard(step.name)
    bar.set_postfix_str(eta.describe(time_left.seconds(left)), refresh=False)
    bar.update()


def _write_key(out, name, keys, seconds):
    atomic.write_json(layout.key_path(out, name), {"key": keys(name), "seconds": round(seconds, 2),
                                                   "made_from": keys.parts(name)})


def _record(out, log, name, status, seconds, attempts=1):
    log["stages"][name] = {"status": status, "seconds": None if seconds is None else round(seconds, 2)}
    if attempts > 1:
        log["stages"][name]["attempts"] = attempts
    atomic.write_json(Path(out) / "stages.json", log)


@contextmanager
def sigterm_interrupts():
    """A `kill` (SIGTERM) of this process stops the run as Ctrl-C does, workers included. Python hands
    signals to the main thread alone, so elsewhere (a run in a thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_regimes(config, out, reference, progress=True, executor=None):
    """run_all once per classifier regime into OUT/<classifier>/, then one report of both in OUT/report/."""
    from .. import report

    folders = []
    for model in REGIMES:
        folders.append(Path(out) / model)
        run_all(apply_override(config, f"classify.model={model}"), folders[-1], progress, executor=executor)
    return report.build_report(folders, reference, Path(out) / "report")
