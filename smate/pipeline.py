"""Every stage in order, without DVC: what `smate-bench run` and `smate-bench regimes` do.

A stage that finishes leaves OUT/keys/<stage>.json with its content key (smate/keys.py) and its
wall time; a later run keeps the stage while its key is unchanged, whatever else a commit changed.
"""

import ctypes
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from tqdm import tqdm

from . import atomic, layout, out_lock, report, stage_registry, stages
from .classify import CLASSIFIERS
from .config import apply_override
from .keys import data_digest, stage_key
from .stage_registry import GROUPS

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def steps(config, out, progress=True, reference=None, reproduction=None):
    """Every stage of a run, in dvc.yaml's order, as named calls (the GPU timing run times each)."""
    return stage_registry.plan(config, out, progress, reference, reproduction)


class Keys:
    """Each step's content key, from its declared params and code, the data it reads and its upstream
    steps' keys. Computed once the split exists, since every keyed step reads it."""

    def __init__(self, config, out, plan):
        self.config, self.out = config, Path(out)
        self.by_name = {step.name: step for step in plan}
        self.cache = {}

    def __call__(self, name):
        if name not in self.cache:
            step = self.by_name[name]
            upstream = [self(before) for before in step.keyed_on if self.by_name[before].stage.keyed]
            self.cache[name] = stage_key(step.stage, self.config, self._data(), upstream, step.fields)
        return self.cache[name]

    def _data(self):
        if "data" not in self.cache:
            folder = layout.prepared_dir(self.out)
            self.cache["data"] = data_digest(*(json.loads((folder / name).read_text()) for name in ("dataset.json", "split.json")))
        return self.cache["data"]


def key_path(out, name):
    return Path(out) / "keys" / f"{name}.json"


def finished(out, step, key):
    """Whether `step` finished before with this content key and its output is still there."""
    try:
        record = json.loads(key_path(out, step.name).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    return record.get("key") == key and step.output is not None and step.output.exists()


def default_workers():
    """2 on a CPU of 2 or more cores: two one-thread processes got through the run grid's training
    steps 1.16-1.43x sooner than one two-thread process on our 2-core CPU (python -m benchmark.workers).
    1 with a GPU, which one process keeps busy."""
    import torch

    return 1 if torch.cuda.is_available() else min(2, os.cpu_count() or 1)


def run_all(config, out, progress=True, reference=None, reproduction=None, workers=1, only=None, cluster=None):
    """Every stage; with `reference` (the paper's numbers) also the report in OUT/report/. A stage
    finished before with the same content key (params, code, data, upstream stages) is kept, so a
    killed run resumes. With `workers` > 1, independent stages run at once in that many one-thread
    processes; with `cluster` (a ray_executor.RayCluster), each stage is a task on that Ray cluster.
    `only` (a key of GROUPS) runs that group's stages alone, on a split made before.
    OUT/stages.json records each stage's status and wall time as it goes."""
    out = Path(out)
    with out_lock.holding(out):
        start = time.perf_counter()
        plan = steps(config, out, progress and workers == 1 and cluster is None, reference, reproduction)
        log = {**({"workers": workers} if cluster is None else cluster.describe()), "stages": {}}
        if only is None:
            for step in plan[:2]:  # prepare and split: every key needs the split
                _record(out, log, step.name, "ran", timed(step.run) if cluster is None else cluster.run_one(step))
        elif (out / "stages.json").is_file():
            log["stages"] = json.loads((out / "stages.json").read_text())["stages"]
        stages.check_prepared(config, out)  # one clear line when the data or the split is missing or stale
        chosen = [step for step in plan[2:] if only is None or step.kind in GROUPS[only]]
        if only == "gan":
            (out / "gan").mkdir(parents=True, exist_ok=True)  # dvc.yaml's output, even with no GAN method to train
        keys = Keys(config, out, plan)
        pending = []
        for step in chosen:
            if step.stage.keyed and finished(out, step, keys(step.name)):
                seconds = json.loads(key_path(out, step.name).read_text()).get("seconds")
                _record(out, log, step.name, "kept", seconds)
            else:
                pending.append(step)
        kept = len(chosen) - len(pending)
        if kept:
            print(f"run: {kept} stages kept, finished before with the same params, code and data")
        bar = tqdm(total=len(pending), desc="stages", unit="stage", disable=not progress)
        try:
            _run_pending(pending, partial(_finish, out, log, keys, bar), workers, cluster)
        finally:
            bar.close()
        seconds = time.perf_counter() - start
        log["wall_seconds"] = seconds
        atomic.write_json(out / "stages.json", log)
        runs = sum(step.kind == "train" for step in chosen)
        where = "" if only else f"; summary in {out / 'summary.md'}"
        print(f"run: {len(chosen)} stages, {runs} of them classifier runs, {kept} kept, in {seconds:.1f} s{where}")


def _run_pending(pending, finish, workers, cluster):
    """Each step on the chosen executor, `finish(step, seconds, ...)` as each ends; a `kill` interrupts them."""
    with sigterm_interrupts():
        if cluster is not None:
            cluster.run(pending, finish)
        elif workers > 1:
            _run_parallel(pending, workers, finish)
        else:
            for step in pending:
                finish(step, timed(step.run))


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
            stages.check_prepared(config, out, with_split=step.stage.reads == "split")
        seconds = timed(step.run)
        if step.stage.keyed:
            _write_key(out, name, Keys(config, out, plan.values())(name), seconds)


def timed(run):
    """The seconds `run()` takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _finish(out, log, keys, bar, step, seconds, attempts=1):
    if step.stage.keyed:
        _write_key(out, step.name, keys(step.name), seconds)
    _record(out, log, step.name, "ran", seconds, attempts)
    bar.update()


def _write_key(out, name, key, seconds):
    atomic.write_json(key_path(out, name), {"key": key, "seconds": round(seconds, 2)})


def _record(out, log, name, status, seconds, attempts=1):
    log["stages"][name] = {"status": status, "seconds": None if seconds is None else round(seconds, 2)}
    if attempts > 1:
        log["stages"][name]["attempts"] = attempts
    atomic.write_json(Path(out) / "stages.json", log)


def limit_threads(threads):
    """Compute on `threads` threads, numpy and scipy too: a core the worker was not given is another's."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)


def _start_worker():
    """Each worker computes on one thread (two such processes beat one two-thread process here), and
    stops as if interrupted when the main process dies, instead of training on unseen."""
    limit_threads(1)
    # SIGTERM, not SIGINT: a run started in the background (nohup, &) inherits SIGINT ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@contextmanager
def sigterm_interrupts():
    """A `kill` (SIGTERM) of this process stops the run as Ctrl-C does, workers included. Python hands
    signals to the main thread alone, so elsewhere (a run in a thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_parallel(pending, workers, finish):
    """Start each step once the steps it reads have finished, in plan order, on `workers` processes.
    A failing step stops new starts; the running ones finish and keep their outputs, then its error is raised."""
    waiting = list(pending)
    names = {step.name for step in pending}
    done = set()
    running = {}
    error = None
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker) as pool:
        try:
            while waiting or running:
                if error is None:
                    for step in [s for s in waiting if all(a in done or a not in names for a in s.after)]:
                        if len(running) >= workers:
                            break
                        waiting.remove(step)
                        running[pool.submit(timed, step.run)] = step
                if not running:
                    break
                finished_now, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished_now:
                    step = running.pop(future)
                    if future.exception() is not None:
                        print(f"{step.name}: failed")
                        error = error or future.exception()
                        continue
                    done.add(step.name)
                    finish(step, future.result())
        except KeyboardInterrupt:
            # The workers may not have had the signal (a `kill` of this process alone): pass it on,
            # so that each stops where it is and removes its partial files.
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGTERM)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    if error is not None:
        raise error


def run_regimes(config, out, reference, progress=True, workers=1):
    """run_all once per classifier into OUT/<classifier>/, then one report of both in OUT/report/."""
    folders = []
    for model in CLASSIFIERS:
        folders.append(Path(out) / model)
        run_all(apply_override(config, f"classify.model={model}"), folders[-1], progress, workers=workers)
    return report.build_report(folders, reference, Path(out) / "report")
