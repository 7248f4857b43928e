"""Every stage in order, without DVC: what `smate-bench run` and `smate-bench regimes` do.

A stage that finishes leaves OUT/keys/<stage>.json with its content key (smate/keys.py) and its
wall time; a later run keeps the stage while its key is unchanged, whatever else a commit changed.
"""

import ctypes
import hashlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from . import atomic, gan_stages, out_lock, report, stages
from .classify import CLASSIFIERS
from .config import apply_override, generator_methods, plain_methods
from .keys import stage_key
from .rebalance import REBALANCERS

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies

# Stages that always rerun: they take seconds, and their glue code (not keyed) shapes what they write.
ALWAYS_RUN = ("prepare", "split", "gan_quality", "summarize", "report")


@dataclass
class Step:
    name: str  # the DVC stage it matches, e.g. "train@smote-0"
    run: Callable[[], object]
    after: tuple = ()  # the steps whose outputs it reads
    output: Path = None  # the file or folder whose presence shows it finished
    extra: dict = field(default_factory=dict)  # what its key adds to its params: the variant, method and seed

    @property
    def kind(self):
        """The stage without its variant: "train", "train_gan", "transfer_gan", ..."""
        return self.name.partition("@")[0]


def steps(config, out, progress=True, reference=None, reproduction=None):
    """Every stage of a run, in dvc.yaml's order, as named calls (the GPU timing run times each)."""
    out = Path(out)
    variants = generator_methods(config)
    pretrains = any(REBALANCERS[variant].pretrained for variant in variants)
    plan = [Step("prepare", partial(stages.prepare, config, out, progress)),
            Step("split", partial(stages.split, config, out), ("prepare",))]
    if pretrains:
        plan.append(Step("pretrain_gan", partial(gan_stages.pretrain_gan, config, out, progress), ("split",),
                         stages.gan_dir(out, "pretrained") / "generator.pt"))
    if any(REBALANCERS[variant].guided for variant in variants):
        plan.append(Step("guide_net", partial(gan_stages.guide_net, config, out, progress), ("split",),
                         stages.guide_net_path(out)))
    for variant in variants:
        sources = ("pretrain_gan" if REBALANCERS[variant].pretrained else "split",
                   *(("guide_net",) if REBALANCERS[variant].guided else ()))
        plan.append(Step(f"transfer_gan@{variant}", partial(gan_stages.transfer_gan, config, out, variant, progress),
                         sources, stages.gan_dir(out, variant) / "generators", {"variant": variant}))
        plan.append(Step(f"synthesize@{variant}", partial(gan_stages.synthesize, config, out, variant),
                         (f"transfer_gan@{variant}",), stages.synthetic_path(out, variant), {"variant": variant}))
    if variants:
        plan.append(Step("feature_net", partial(gan_stages.feature_net, config, out, progress), ("prepare",),
                         stages.feature_net_path(out)))
    for variant in variants:
        plan.append(Step(f"gan_quality@{variant}", partial(gan_stages.gan_quality, config, out, variant),
                         ("feature_net", f"synthesize@{variant}"), stages.gan_dir(out, variant) / "quality.json",
                         {"variant": variant}))
    # Seed by seed, so that a run cut short has every method's first seeds.
    for seed in config["seeds"]:
        for stage, methods in (("train", plain_methods(config)), ("train_gan", variants)):
            for method in methods:
                source = f"synthesize@{method}" if stage == "train_gan" else "split"
                plan.append(Step(f"{stage}@{method}-{seed}", partial(stages.train, config, out, method, seed, progress),
                                 (source,), stages.run_dir(out, method, seed) / "metrics.json",
                                 {"method": method, "seed": seed}))
    scored = tuple(step.name for step in plan if step.kind in ("train", "train_gan", "gan_quality"))
    plan.append(Step("summarize", partial(stages.summarize, config, out), scored))
    if reference is not None:
        plan.append(Step("report", partial(report.build_report, [out], reference, out / "report", reproduction),
                         ("summarize",)))
    return plan


class Keys:
    """Each step's content key, from its params, code, the split it reads and its upstream steps' keys.
    Computed once the split exists, since every keyed step reads it."""

    def __init__(self, config, out, plan):
        self.config, self.out = config, Path(out)
        self.by_name = {step.name: step for step in plan}
        self.cache = {}

    def __call__(self, name):
        if name not in self.cache:
            step = self.by_name[name]
            upstream = [before for before in step.after if before not in ALWAYS_RUN]
            if step.kind == "train_gan":
                # A seed's draw depends on the generator and the seed, not on the other seeds drawn with it.
                upstream = [self.by_name[before].after[0] for before in upstream]
            upstream = [self(before) for before in upstream]
            fields = {"method": step.extra.get("method", "")}
            self.cache[name] = stage_key(self.config, step.kind, self._data(), upstream, fields, step.extra)
        return self.cache[name]

    def _data(self):
        if "data" not in self.cache:
            split = json.loads((stages.prepared_dir(self.out) / "split.json").read_text())
            kept = hashlib.sha256(json.dumps(split["kept_indices"]).encode()).hexdigest()
            self.cache["data"] = {"source_sha256": split["source_sha256"], "kept_sha256": kept}
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


# The stage groups dvc.yaml runs as one process each (`smate-bench run --only GROUP`): a DVC stage is
# a new process, and 37 of them took 10x as long as one `run` on the tiny preset.
GROUPS = {"gan": ("pretrain_gan", "guide_net", "transfer_gan", "synthesize", "feature_net", "gan_quality"),
          "train": ("train", "train_gan")}


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
        else:
            stages.load_split(config, out)  # one clear line when the split is missing or stale
            if (out / "stages.json").is_file():
                log["stages"] = json.loads((out / "stages.json").read_text())["stages"]
        chosen = [step for step in plan[2:] if only is None or step.kind in GROUPS[only]]
        if only == "gan":
            (out / "gan").mkdir(parents=True, exist_ok=True)  # dvc.yaml's output, even with no GAN method to train
        keys = Keys(config, out, plan)
        pending = []
        for step in chosen:
            if step.kind not in ALWAYS_RUN and finished(out, step, keys(step.name)):
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
        runs = sum(step.kind in ("train", "train_gan") for step in chosen)
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
    """One stage by its dvc.yaml name (what the CLI's stage commands and so `dvc repro` run), leaving
    its key so that `smate-bench run` keeps it."""
    with out_lock.holding(out):
        plan = {step.name: step for step in steps(config, out, progress)}
        if name not in plan:  # DVC runs every stage it defines; these skip themselves when no method needs them
            {"pretrain_gan": gan_stages.pretrain_gan, "guide_net": gan_stages.guide_net,
             "feature_net": gan_stages.feature_net}[name](config, out, progress)
            return
        step = plan[name]
        seconds = timed(step.run)
        if step.kind not in ALWAYS_RUN:
            _write_key(out, name, Keys(config, out, plan.values())(name), seconds)


def timed(run):
    """The seconds `run()` takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _finish(out, log, keys, bar, step, seconds, attempts=1):
    if step.kind not in ALWAYS_RUN:
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
