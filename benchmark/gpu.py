"""The timing run: one preset end to end, with each stage's wall time, peak GPU memory and images/s.

    python -m benchmark.gpu --set data.root=data/cifar10 --out results/paper

It runs every stage of `smate-bench run` (the paper protocol by default) into OUT and writes
OUT/timing.json and OUT/timing.md beside the run's own results. Stages are timed after a CUDA
synchronize, so each time holds all of that stage's GPU work. On a machine without a GPU it runs
on the CPU and leaves the memory column empty.
"""

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from tabulate import tabulate

from smate import atomic, pipeline
from smate.classify import resolve_device
from smate.report.records import PAPER_REFERENCE
from smate.config import build_config
from smate.errors import SmateError
from smate.pipeline.runinfo import environment
from smate.report.layout import gan_dir, prepared_dir, training_dir
from smate.pipeline.stages import load_synthetic


def time_step(step, cuda):
    """Run one stage; its wall time, its peak GPU memory, and what it returned."""
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    result = step.run()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return seconds, (torch.cuda.max_memory_allocated() if cuda else None), result


def _gan_histories(folder):
    return [json.loads(path.read_text()) for path in sorted(Path(folder).rglob("history.json"))]


def images_processed(step, result, config, out):
    """(images the stage processed, images/s of its training loop alone) or (None, None) where neither applies.
    Training stages count every image of every epoch."""
    kind, fields = step.kind, step.fields
    if kind == "prepare":
        return sum(result["train_counts"].values()) + sum(result["test_counts"].values()), None
    if kind in ("pretrain_gan", "transfer_gan"):
        histories = _gan_histories(training_dir(out, fields.get("variant", "pretrained"), fields["generator_seed"]))
        epochs = [epoch for history in histories for epoch in history["history"]]
        if not epochs:
            return None, None
        seen = sum(history["n_images"] * history.get("passes", 1) * len(history["history"]) for history in histories)
        return seen, statistics.median(epoch["images_per_second"] for epoch in epochs)
    if kind == "feature_net":
        counts = json.loads((prepared_dir(out) / "dataset.json").read_text())["train_counts"]
        model = config["classify"]["model"]
        return round(sum(counts.values()) * config["classify"][model]["epochs"]), None
    if kind == "synthesize":
        return len(load_synthetic(out, fields["variant"], fields["generator_seed"])[1]), None
    if kind == "gan_quality":
        scored = json.loads((gan_dir(out, fields["variant"]) / "quality.json").read_text())["classes"]
        return sum(scores["n_synthetic"] for scores in scored.values()), None
    if kind == "pretrain_quality":
        scored = json.loads((training_dir(out, "pretrained", fields["generator_seed"]) / "quality.json").read_text())
        return scored["n_heldout"] * len(scored["curve"]), None  # as many samples drawn as held-out images, per snapshot
    if kind == "train":
        model = result["classifier"]
        seen = sum(result["train_counts"].values()) * config["classify"][model]["epochs"]
        return round(seen), seen / result["seconds"]["train"]
    return None, None


def gpu_driver():
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else None


def by_kind(stages):
    """The stages grouped by kind (every train@ run together), in run order."""
    groups = {}
    for stage in stages:
        group = groups.setdefault(stage["stage"].partition("@")[0], {"stages": 0, "seconds": 0.0, "images": 0, "peak": None})
        group["stages"] += 1
        group["seconds"] += stage["seconds"]
        group["images"] += stage["images"] or 0
        if stage["peak_gpu_memory_bytes"] is not None:
            group["peak"] = max(group["peak"] or 0, stage["peak_gpu_memory_bytes"])
    return groups


def _describe(device):
    if device["type"] == "cuda":
        return f"{device['name']} (driver {device.get('driver')}, CUDA {device['cuda']})"
    return f"{device['name']} CPU ({device['cores']} cores, {device['torch_threads']} torch threads)"


def markdown(timing):
    env = timing["environment"]
    device = env["device"]
    total = timing["total_seconds"]
    rows = [[kind, group["stages"], group["seconds"], 100 * group["seconds"] / total,
             group["images"] / group["seconds"] if group["images"] else None,
             None if group["peak"] is None else group["peak"] / 2**30]
            for kind, group in by_kind(timing["stages"]).items()]
    lines = [
        f"# Timing: {timing['preset'] or 'params.yaml'} in {total:.1f} s",
        "",
        f"{_describe(device)}, torch {env['packages']['torch']}, Python {env['python']}, commit {env['git_commit']}.",
        f"Command: `{timing['command']}`.",
        "",
        tabulate(rows, headers=["stage", "count", "seconds", "share %", "images/s", "peak GPU GiB"],
                 tablefmt="github", floatfmt=".1f", missingval=""),
        "",
        "images/s counts every image of every epoch over the whole stage, setup and evaluation included;",
        "timing.json also has each stage's training loop alone (`training_images_per_second`).",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmark.gpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", help="a packaged preset or a YAML file of overrides (default: params.yaml alone)")
    parser.add_argument("--params", help="params file to start from (default: ./params.yaml when it exists)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", default="results/timing", help="a fresh folder for the run and its timing")
    parser.add_argument("--reference", default=str(PAPER_REFERENCE), help="the paper's numbers, for the report stage")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return _timed_run(args)
    except SmateError as err:
        print(f"benchmark.gpu: error: {err}", file=sys.stderr)
        return 2


def _timed_run(args):
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise SmateError(f"{out} is not empty; the timing run needs a fresh folder, or resumed stages would look fast")
    params = args.params or ("params.yaml" if Path("params.yaml").is_file() else None)
    config = build_config(params, args.preset, args.overrides)
    device = resolve_device(config["classify"]["device"])
    cuda = device.type == "cuda"
    reference = args.reference if Path(args.reference).is_file() else None
    env = environment(device)
    env["device"]["driver"] = gpu_driver() if cuda else None
    timing = {"preset": args.preset, "command": shlex.join(["python", "-m", "benchmark.gpu", *args.argv]),
              "complete": False, "total_seconds": 0.0, "environment": env, "stages": []}
    start = time.perf_counter()
    for step in pipeline.steps(config, out, not args.quiet, reference):
        seconds, peak, result = time_step(step, cuda)
        images, training_rate = images_processed(step, result, config, out)
        timing["stages"].append({"stage": step.name, "seconds": seconds, "peak_gpu_memory_bytes": peak, "images": images,
                                 "images_per_second": images / seconds if images else None,
                                 "training_images_per_second": training_rate})
        timing["total_seconds"] = time.perf_counter() - start
        # Written after every stage, so a run that is cut short still says how far it got and how fast.
        atomic.write_json(out / "timing.json", timing)
        print(f"timing: {step.name} {seconds:.2f} s" + (f", {images / seconds:,.0f} images/s" if images else ""), flush=True)
    timing["complete"] = True
    atomic.write_json(out / "timing.json", timing)
    atomic.write_text(out / "timing.md", markdown(timing))
    print(f"timing: {timing['total_seconds']:.1f} s in all; {out / 'timing.json'}, {out / 'timing.md'}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
