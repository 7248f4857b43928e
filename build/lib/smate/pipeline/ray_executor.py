"""`smate-bench run --executor ray`: each stage a Ray task, placed and ordered by Ray.

A stage's task takes its upstream stages' tasks as arguments, so Ray starts it once they have
finished and runs independent stages at once, as many as the cluster's CPUs (or GPUs) allow.
Every task reads and writes OUT itself, at the driver's path: stages hand each other files of up to
hundreds of MB (the dataset, generators, synthetic images), which a file system every node mounts
carries once, where returning them through the driver would carry each twice and hold it in memory.
"""

import ctypes
import logging
import os
import sys
import threading
from functools import partial

from ..errors import SmateError

INSTALL = "pip install 'smate-bench[ray]' (or pip install ray)"
POLL_SECONDS = 0.5  # how soon a running stage notices that the driver was interrupted
RETRIES = 3  # Ray reruns a stage whose worker was lost (its process killed, its node gone) this many times


def _ray():
    # Ray folds log lines that differ only in numbers into one ("repeated 5x"): each stage's result line counts.
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    try:
        import ray
    except ImportError:
        raise SmateError(f"--executor ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


class AttemptLog:
    """Which stages have started and how often (Ray retries a lost worker's task without telling the
    driver), and whether the run still wants stages started, or running ones stopped."""

    def __init__(self):
        self.attempts = {}
        self.halted = False  # a stage failed: none starts after
        self.interrupted = False  # the driver was interrupted: the running ones stop too

    def start(self, name):
        """Whether `name` may begin; if so, its attempt is counted."""
        if self.halted:
            return False
        self.attempts[name] = self.attempts.get(name, 0) + 1
        return True

    def count(self, name):
        return self.attempts.get(name, 0)

    def started(self):
        return set(self.attempts)

    def halt(self):
        self.halted = True

    def interrupt(self):
        self.halted = self.interrupted = True

    def is_interrupted(self):
        return self.interrupted


def run_stage(run, name, cwd, attempt_log, *upstream):
    """A stage on a Ray worker, in the driver's folder; `upstream` only orders it after those stages."""
    import ray

    from .local_executor import limit_threads, timed

    if not ray.get(attempt_log.start.remote(name)):
        return None  # the run stopped before this stage began
    try:
        os.chdir(cwd)
    except FileNotFoundError:
        node = ray.get_runtime_context().get_node_id()[:8]
        raise SmateError(f"node {node} has no folder {cwd}: the Ray executor needs the project (and OUT) on a "
                         "file system that every node mounts at the driver's path") from None
    limit_threads(max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1))))
    return _until_interrupted(partial(timed, run), partial(_driver_interrupted, attempt_log))


def _driver_interrupted(attempt_log):
    import ray

    try:
        return ray.get(attempt_log.is_interrupted.remote())
    except ray.exceptions.RayActorError:  # the log dies with its driver: stop as if interrupted
        return True


def _until_interrupted(run, interrupted):
    """`run()`, stopped as Ctrl-C stops it (its partial files removed) once `interrupted()` says so.
    The stage asks, rather than the driver calling ray.cancel: in Ray 2.60 a cancel that meets a
    task's own start or end can abort the driver (ray-project/ray#54798)."""
    done, lock = threading.Event(), threading.Lock()
    stage_thread = threading.get_ident()

    def watch():
        while not done.wait(POLL_SECONDS):
            if interrupted():
                with lock:
                    if not done.is_set():
                        _raise_in(stage_thread, KeyboardInterrupt)
                return

    threading.Thread(target=watch, daemon=True, name="interrupt-watch").start()
    try:
        return run()
    finally:
        with lock:  # from here on the watcher interrupts nothing
            done.set()


def _raise_in(thread_id, exception):
    # Not _thread.interrupt_main: that does nothing where SIGINT is ignored, as under nohup.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exception))


class RayCluster:
    """A connection to a Ray cluster: `address` joins one ("auto": the one this machine is part of);
    None starts a local one on this machine's cores, unless Ray is already initialised (the tests)."""

    def __init__(self, address=None):
        self.ray = _ray()
        self.owned = not self.ray.is_initialized()
        if self.owned:
            try:
                self.ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
            except ConnectionError as err:
                raise SmateError(f"cannot reach the Ray cluster at {address!r} ({err}); start one with "
                                 "`ray start --head`, or leave out --address for a local one") from None
        resources = self.ray.cluster_resources()
        self.cpus, self.gpus = int(resources.get("CPU", 0)), int(resources.get("GPU", 0))
        self.nodes = sum(node["Alive"] for node in self.ray.nodes())
        self.task = self.ray.remote(max_retries=RETRIES)(run_stage)
        self.attempt_log = self.ray.remote(AttemptLog).options(num_cpus=0).remote()

    in_process = False  # stages run in Ray's worker processes

    def describe(self):
        return {"executor": "ray", "nodes": self.nodes, "cpus": self.cpus, "gpus": self.gpus}

    def close(self):
        if self.owned:
            self.ray.shutdown()

    def run_one(self, step):
        """One stage, waited for: prepare and split, which every later stage's key reads."""
        seconds, = self.run([step], lambda step, seconds, attempts: None)
        return seconds

    def run(self, steps, finish):
        """Every step as a task, each after the steps it reads among `steps`; `finish(step, seconds,
        attempts)` as each ends. A failed stage halts the run: the stages not yet begun skip themselves,
        the running ones finish (their outputs kept, as the local executor does), then its error is raised."""
        refs = {}
        for step in steps:
            upstream = [refs[name] for name in step.after if name in refs]
            options = {"name": step.name, "num_cpus": 1}
            if self.gpus and step.stage.network:  # it trains or runs a network; the others ask for a CPU
                options["num_gpus"] = 1
            refs[step.name] = self.task.options(**options).remote(
                step.run, step.name, os.getcwd(), self.attempt_log, *upstream)
        by_ref = {ref: step for step, ref in zip(steps, refs.values())}
        waiting, results, error = list(refs.values()), [], None
        try:
            while waiting:
                ready, waiting = self.ray.wait(waiting, num_returns=1)
                step = by_ref[ready[0]]
                try:
                    seconds = self.ray.get(ready[0])
                except self.ray.exceptions.RayError as err:
                    if error is None:
                        error = self._stage_error(step, err)
                        self.ray.get(self.attempt_log.halt.remote())
                    continue
                if seconds is None:  # skipped: the run was halted before it began
                    continue
                results.append(seconds)
                attempts = self.ray.get(self.attempt_log.count.remote(step.name))
                if attempts > 1:
                    print(f"{step.name}: finished on attempt {attempts}; Ray retried it after losing its worker")
                finish(step, seconds, attempts)
        except KeyboardInterrupt:
            self._interrupt(waiting, by_ref)
            raise
        if error is not None:
            raise error
        return results

    def _interrupt(self, waiting, by_ref):
        """Stop every stage, the running ones as Ctrl-C would (each removes its partial files), and wait
        for those: the rest never begin, and Ray drops them with the driver."""
        self.ray.get(self.attempt_log.interrupt.remote())
        started = self.ray.get(self.attempt_log.started.remote())
        running = [ref for ref in waiting if by_ref[ref].name in started]
        if running:
            self.ray.wait(running, num_returns=len(running), timeout=60)

    def _stage_error(self, step, err):
        """The stage's own error in one line; a bug's remote traceback goes to stderr first."""
        cause = getattr(err, "cause", None)
        if isinstance(cause, SmateError):
            return SmateError(f"stage {step.name} failed: {cause}")
        if cause is None:  # the worker was lost more often than Ray retries, or its node ran out of memory
            return SmateError(f"stage {step.name} failed after {RETRIES} retries: {type(err).__name__}: "
                              f"{str(err).splitlines()[0]}")
        print(err, file=sys.stderr)
        return SmateError(f"stage {step.name} failed: {type(cause).__name__}: {cause}")

