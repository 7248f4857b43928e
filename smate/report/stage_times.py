"""The wall time each stage instance of a results folder took, from the seconds it recorded in its key, and the
table of them by kind of stage (the report's "Wall time" section): what a preset costs, sitting after sitting."""

import json

import numpy as np
from tabulate import tabulate

from . import layout


def stage_seconds(folders):
    """{stage instance: seconds} over the folders (the first folder's where several hold one)."""
    seconds = {}
    for folder in folders:
        for path in sorted(layout.keys_dir(folder).glob("*.json")):
            recorded = json.loads(path.read_text()).get("seconds") or 0.0
            seconds.setdefault(path.stem, max(recorded, _trained_seconds(folder, path.stem)))
    return seconds


def _trained_seconds(folder, stage):
    """The seconds a GAN stage's trainings recorded epoch by epoch (0 for another stage): a stage that resumed from
    its checkpoints keeps only its last sitting's wall time in its key (0.13 s for a training found finished)."""
    kind, _, instance = stage.partition("@")
    if kind not in ("pretrain_gan", "transfer_gan"):
        return 0.0
    variant, _, seed = (f"pretrained-{instance}" if kind == "pretrain_gan" else instance).rpartition("-")
    return sum(epoch["seconds"] for path in layout.training_dir(folder, variant, seed).rglob("history.json")
               for epoch in json.loads(path.read_text())["history"])


def wall_time_lines(folders):
    """The report's lines on what the stages cost: per kind of stage, its instances and their worker time."""
    by_kind = {}
    for name, seconds in stage_seconds(folders).items():
        by_kind.setdefault(name.partition("@")[0], []).append(seconds)
    if not by_kind:
        return []
    rows = [[kind, len(times), f"{sum(times) / 3600:.2f}", f"{np.median(times):,.0f}", f"{min(times):,.0f} to {max(times):,.0f}"]
            for kind, times in by_kind.items()]
    total = sum(sum(times) for times in by_kind.values())
    return ["## Wall time",
            f"Each stage instance's wall time on one worker, as its key recorded it (a GAN training's from its epochs, "
            f"over every sitting it took): {total / 3600:.2f} worker hours in all. Stages run beside each other on "
            "the workers, so the wall time of the whole is less.",
            tabulate(rows, headers=["stage", "instances", "worker hours", "median s", "range s"], tablefmt="github",
                     disable_numparse=True)]
