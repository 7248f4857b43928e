"""One run at a time in an output folder: two would train the same stages twice and each rewrite
OUT/stages.json, and neither could tell a partial file of the other's from one a killed run left."""

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from .. import atomic
from ..errors import SmateError

LOCK_NAME = ".smate-run.lock"


@contextmanager
def holding(out):
    """Hold OUT for this process (a second run on it stops with one line), after removing what a run
    killed outright left half-written there. The kernel drops the lock when its holder dies."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise SmateError(f"another smate-bench run (pid {holder}) is writing to {out}; wait for it to end "
                             "or stop it, or give this one another --out") from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        removed = atomic.remove_partials(out)
        if removed:
            print(f"run: removed {removed} partial files or folders that a killed run left in {out}")
        yield
