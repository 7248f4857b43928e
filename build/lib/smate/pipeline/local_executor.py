"""`smate-bench run` on this machine: the stages one after another, or independent ones at once in worker
processes of one thread each. ray_executor.py's RayCluster is the other executor; both take a plan's
steps through the same interface: in_process, describe(), run_one(step) and run(steps, finish)."""

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def default_workers():
    """2 on a CPU of 2 or more cores: two one-thread processes got through the run grid's training
    steps 1.16-1.43x sooner than one two-thread process on our 2-core CPU (python -m benchmark.workers).
    1 with a GPU, which one process keeps busy."""
    import torch

    return 1 if torch.cuda.is_available() else min(2, os.cpu_count() or 1)


def timed(run):
    """The seconds `run()` takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def limit_threads(threads):
    """Compute on `threads` threads, numpy and scipy too: a core the worker was not given is another's."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)


@contextlib.contextmanager
def one_thread():
    """This process computes on one thread, as a worker does, until the block ends."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    try:
        with threadpool_limits(1):
            torch.set_num_threads(1)
            yield
    finally:
        torch.set_num_threads(threads)


class LocalExecutor:
    """The steps in this process (one worker), or on `workers` one-thread processes."""

    def __init__(self, workers=1):
        self.workers = workers

    def describe(self):
        return {"workers": self.workers}

    @property
    def in_process(self):
        """Whether the stages run one after another in this process, where their progress bars can show."""
        return self.workers == 1

    def run_one(self, step):
        """One step, waited for: prepare and split, which every later step's key reads."""
        return timed(step.run)

    def run(self, steps, finish):
        """Every step, each once the steps it reads among `steps` have finished; `finish(step, seconds)` as each ends.
        With one network to train, workers have nothing to share: the steps run here, on one thread as a worker's
        would, since a worker process costs more than a small stage (4-5 s to start and import torch on our CPU)."""
        if self.workers > 1 and sum(step.stage.network for step in steps) > 1:
            _run_parallel(steps, self.workers, finish)
            return
        with one_thread() if self.workers > 1 else contextlib.nullcontext():
            for step in steps:
                finish(step, timed(step.run))


def _start_worker():
    """Each worker computes on one thread (two such processes beat one two-thread process here), and
    stops as if interrupted when the main process dies, instead of training on unseen."""
    limit_threads(1)
    # SIGTERM, not SIGINT: a run started in the background (nohup, &) inherits SIGINT ignored.
    signal.signal(signal.SIGTERM, interrupt)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def interrupt(signum, frame):
    raise KeyboardInterrupt
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

