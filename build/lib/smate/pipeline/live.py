"""Per-epoch training curves through DVCLive (log.dvclive), written while a stage trains, so that `dvc plots
show` and DVC's VS Code extension follow every classifier and GAN training of a run, whatever its methods."""

import contextlib
import shutil
from numbers import Real

from ..report import layout
from ..errors import SmateError

# Counters of the loop, not curves: DVCLive's own step column holds the epoch.
NOT_CURVES = ("epoch", "step")


@contextlib.contextmanager
def epoch_logger(out, step_name, enabled):
    """A function that logs one epoch's record to OUT/live/<step_name>/ (one TSV a number, step = its epoch;
    `prefix` keeps apart the trainings of a stage that trains several), or None when log.dvclive is off.
    The folder is opened on entering, so that a repository DVCLive refuses stops the stage before it trains."""
    if not enabled:
        yield None
        return
    folder = layout.live_dir(out, step_name)
    live = _open(folder)
    logged = False

    def log(record, prefix=""):
        nonlocal logged
        live.step = record["epoch"]
        for name, value in record.items():
            if name not in NOT_CURVES and isinstance(value, Real):
                live.log_metric(prefix + name, value)
        live.make_summary()
        logged = True

    try:
        yield log
    finally:
        live.end()
        if not logged:  # a stage that trained no epoch (a decoupled run re-fits a last layer) leaves no empty log
            shutil.rmtree(folder, ignore_errors=True)


def _open(folder):
    from dvclive import Live
    from scmrepo.exceptions import SCMError

    try:
        # No experiment and no dvc.yaml of its own: the project's dvc.yaml declares OUT/live as plots.
        return Live(str(folder), save_dvc_exp=False, dvcyaml=None)
    except SCMError as error:
        raise SmateError(f"log.dvclive: DVCLive cannot start in this git repository ({error}); "
                         "make its first commit, or --set log.dvclive=false") from None
