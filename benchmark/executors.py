"""How much does the Ray executor cost on one machine? Runs a preset with the local executor and
with `--executor ray` (a local Ray cluster of this machine's cores), back to back, each from an
empty output folder, and times each whole command as a user waits for it, Ray's start included.

    python -m benchmark.executors --data data/cifar10 [--preset smoke] [--repeats 1] [--json FILE]

It also checks that both runs wrote the same summary, bar the wall-time columns.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmark.image.compare_summaries import differences
from smate import atomic

EXECUTORS = {"local": [], "ray": ["--executor", "ray"]}


def _run(preset, data, out, extra):
    command = [sys.executable, "-m", "smate.cli", "run", "--preset", preset, "--set", f"data.root={data}",
               "--quiet", "--out", str(out), *extra]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the dataset folder (data.root)")
    parser.add_argument("--preset", default="smoke")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of local then ray")
    parser.add_argument("--json", help="also write the times here")
    args = parser.parse_args(argv)
    seconds, matches = {name: [] for name in EXECUTORS}, []
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            for name, extra in EXECUTORS.items():
                out = Path(scratch) / f"{name}-{repeat}"
                seconds[name].append(round(_run(args.preset, args.data, out, extra), 1))
                print(f"{name}: {seconds[name][-1]} s", flush=True)
            cells = differences(Path(scratch) / f"local-{repeat}" / "summary.csv",
                                Path(scratch) / f"ray-{repeat}" / "summary.csv")
            matches.append(not cells)
            print(f"round {repeat + 1}: the summaries {'match' if matches[-1] else 'DIFFER'}", *cells, sep="\n")
    ratio = sum(seconds["ray"]) / sum(seconds["local"])
    record = {"preset": args.preset, "seconds": seconds, "ray_over_local": round(ratio, 3), "same_numbers": all(matches)}
    print(json.dumps(record))
    if args.json:
        atomic.write_json(args.json, record)
    return 0 if all(matches) else 1


if __name__ == "__main__":
    sys.exit(main())
