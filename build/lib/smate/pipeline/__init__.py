"""Orchestration: the stage declarations and the plan made from them, content keys, the executors (local
processes, Ray), the folder lock, the time left, live logs, the sweep and the run record; the stage functions
themselves, which put the library's rooms to work; and dvc.yaml, written from the declarations.

`smate.pipeline` was one module before this package: its names (run_all, run_step, run_regimes, steps, Keys)
stay importable from here, each imported when first used (smate/registry.py).
"""

from ..registry import lazy_attributes

__getattr__ = lazy_attributes(__name__, {
    "Keys": "smate.pipeline.run:Keys", "finished": "smate.pipeline.run:finished", "run_all": "smate.pipeline.run:run_all",
    "run_regimes": "smate.pipeline.run:run_regimes", "run_step": "smate.pipeline.run:run_step",
    "sigterm_interrupts": "smate.pipeline.run:sigterm_interrupts", "steps": "smate.pipeline.run:steps"})

__all__ = ["Keys", "finished", "run_all", "run_regimes", "run_step", "sigterm_interrupts", "steps"]
