"""How long the stages left in a run should take, from the wall times runs recorded for them: the stage's
own time in an earlier run of this folder (its content key's record, or the last run's stages.json), else
the mean of its kind's (the same stage and method over the other seeds, then the same stage), from
earlier runs and this one."""

import json
import re
from collections import defaultdict

from ..report import layout


def kinds(name):
    """The groups a stage instance's time stands for, narrowest first: train@smote-0 -> train@smote, train."""
    return [re.sub(r"-\d+$", "", name), name.partition("@")[0]]


class TimeLeft:
    def __init__(self, out, steps, workers=1, earlier=None):
        """`steps`: every stage the run has chosen, kept ones included (their times count for their kinds);
        `earlier`: {stage: seconds} of the folder's last run (its stages.json), for the stages that keep no key."""
        self.workers = workers
        self.own = {}
        self.of_kind = defaultdict(list)
        for step in steps:
            seconds = _recorded(out, step.name)
            seconds = (earlier or {}).get(step.name) if seconds is None else seconds
            if seconds is not None:
                self.own[step.name] = seconds
                self._count(step.name, seconds)

    def _count(self, name, seconds):
        for kind in kinds(name):
            self.of_kind[kind].append(seconds)

    def finished(self, name, seconds):
        self.own[name] = seconds
        self._count(name, seconds)

    def seconds(self, left):
        """The estimated wall time of the stage names `left`, shared over the workers; None where any has
        nothing to go on (and when nothing is left)."""
        if not left:
            return None
        total = 0.0
        for name in left:
            known = [self.own.get(name)] + [_mean(self.of_kind.get(kind)) for kind in kinds(name)]
            estimate = next((value for value in known if value is not None), None)
            if estimate is None:
                return None
            total += estimate
        return total / self.workers


def describe(seconds):
    """The bar's note: "about 4 min left (estimate)", or "" without an estimate."""
    if seconds is None:
        return ""
    return f"about {duration(seconds)} left (estimate)"


def duration(seconds):
    """Seconds as people read them: 45 s, 12 min, 3.1 h."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _recorded(out, name):
    try:
        return json.loads(layout.key_path(out, name).read_text()).get("seconds")
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _mean(values):
    return sum(values) / len(values) if values else None
