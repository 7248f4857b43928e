"""Compare a run of the benchmark suite with the committed baseline.

    python -m benchmark.compare .benchmarks/latest.json                   # the table; exit 1 on a slowdown
    python -m benchmark.compare .benchmarks/run*.json --write-baseline    # accept these times (medians)
    python -m benchmark.compare .benchmarks/new.json --add "one run on ..." # add new benchmarks, keep the rest
    python -m benchmark.compare .benchmarks/r*.json --add "..." --renew NAME  # and renew NAME (a change meant to move it)
    python -m benchmark.compare .benchmarks/new.json --add "..." --drop NAME  # and drop NAME (a benchmark renamed or gone)

Each benchmark's fastest round is divided by the reference kernel's fastest time just before and
after it (benchmark/conftest.py). A shared machine that is busy, or simply slower, moves both
alike; a slowdown in our code moves only the ratio.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

from tabulate import tabulate

from smate import atomic

BASELINE = Path(__file__).with_name("baseline.json")
# On our shared 2-core machine, six runs put no gated ratio more than 1.29x above the baseline, and
# steps made to run twice (SMOTE, the GAN step) measured 1.86x and 1.94x: 1.6x sits between.
THRESHOLD = 1.6
# Below 5 ms a benchmark is a memory copy or less, whose time follows the neighbours' memory traffic
# more than our code: such times are shown, not gated.
FLOOR_SECONDS = 5e-3


def fastest_rounds(run):
    """{benchmark: (its fastest round, the reference kernel's fastest time beside it)} in seconds,
    from the contents of a pytest-benchmark JSON file."""
    times = {}
    for bench in run["benchmarks"]:
        reference = bench.get("extra_info", {}).get("reference_seconds")
        if reference is None:
            raise SystemExit(f"compare: {bench['name']} has no reference time; run the suite with its conftest (make bench)")
        times[bench["name"]] = (bench["stats"]["min"], reference)
    return times


def relative(times):
    return {name: seconds / reference for name, (seconds, reference) in times.items()}


def compare(run, baseline, threshold=THRESHOLD, cannot_run=lambda name: None):
    """Rows for the table, and the names of the benchmarks that fail (slower, new or missing).
    `cannot_run(name)` says why this machine cannot run a benchmark (None where it can): such a one missing
    from the run is shown, not failed."""
    now, before = relative(fastest_rounds(run)), baseline["relative"]
    rows, failed = [], []
    for name in sorted(set(now) | set(before)):
        if name not in now and cannot_run(name):
            rows.append([name, before[name], None, None, f"not run: {cannot_run(name)}"])
            continue
        if name not in now:
            rows.append([name, before[name], None, None, "missing from this run: remove it with --write-baseline"])
            failed.append(name)
            continue
        if name not in before:
            rows.append([name, None, now[name], None, "not in the baseline: add it with --write-baseline"])
            failed.append(name)
            continue
        change = now[name] / before[name]
        if baseline["seconds"][name] < FLOOR_SECONDS:
            verdict = "under 5 ms: not gated"
        elif change > threshold:
            verdict = f"SLOWER (over {threshold}x)"
            failed.append(name)
        else:
            verdict = "ok"
        rows.append([name, before[name], now[name], change, verdict])
    return rows, failed


def make_baseline(runs):
    """The baseline from one or more runs: per benchmark, the median over runs, so one lucky run sets no bar."""
    times = [fastest_rounds(run) for run in runs]
    names = sorted(set.intersection(*(set(t) for t in times)))
    machine = runs[0].get("machine_info", {})
    return {
        "machine": {"cpu": machine.get("cpu", {}).get("brand_raw"), "cores": machine.get("cpu", {}).get("count"),
                    "python": machine.get("python_version")},
        "commits": sorted({run.get("commit_info", {}).get("id") or "unknown" for run in runs}),
        "runs": len(runs),
        "seconds": {name: statistics.median(t[name][0] for t in times) for name in names},
        "relative": {name: statistics.median(relative(t)[name] for t in times) for name in names},
    }


def cannot_run_here(name):
    """Why this machine skips a benchmark: the bf16 ones need a CPU that computes bf16 natively."""
    from smate.precision import native_bf16

    if "bf16" in name and not native_bf16("cpu"):
        return "this CPU has no native bf16 (AVX512-BF16 or AMX)"
    return None


def _read(path):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SystemExit(f"compare: {path} does not exist; make bench writes .benchmarks/latest.json") from None
    except json.JSONDecodeError as err:
        raise SystemExit(f"compare: {path} is not JSON ({err}); was the benchmark run cut short?") from None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmark.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="the JSON file that pytest --benchmark-json wrote "
                        "(several with --write-baseline: the baseline takes their medians)")
    parser.add_argument("--baseline", default=str(BASELINE))
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help=f"fail above this change (default {THRESHOLD})")
    parser.add_argument("--write-baseline", action="store_true", help="make this run the baseline")
    parser.add_argument("--add", metavar="HOW", help="add to the baseline the benchmarks it lacks, from these runs, "
                        "with HOW they were measured (e.g. 'one run on a 2-core AMD EPYC'); the rest stay as they are")
    parser.add_argument("--renew", metavar="NAME", action="append", default=[],
                        help="with --add: also replace this benchmark's entry, after a change that moves its time on "
                        "purpose (repeat for several; the runs' median)")
    parser.add_argument("--drop", metavar="NAME", action="append", default=[],
                        help="with --add: also remove this benchmark's entry, after it was renamed or removed")
    args = parser.parse_args(argv)
    runs = [_read(path) for path in args.runs]
    if (args.renew or args.drop) and not args.add:
        raise SystemExit("compare: --renew and --drop need --add HOW, which records how the baseline's new times were measured")
    if args.write_baseline:
        atomic.write_json(args.baseline, make_baseline(runs))
        print(f"compare: wrote {args.baseline}")
        return 0
    if args.add:
        baseline, new = _read(args.baseline), make_baseline(runs)
        unmeasured = sorted(set(args.renew) - set(new["seconds"]))
        if unmeasured:
            raise SystemExit(f"compare: {', '.join(unmeasured)} is not in every one of these runs; run it, then renew it")
        added = sorted((set(new["seconds"]) - set(baseline["seconds"])) | set(args.renew))
        unknown = sorted(set(args.drop) - set(baseline["seconds"]))
        if unknown:
            raise SystemExit(f"compare: {', '.join(unknown)} is not in the baseline, so it cannot be dropped")
        entries = {key: {name: new[key][name] for name in added} for key in ("seconds", "relative")}
        entries["added"] = {name: args.add for name in added}
        for key, fresh in entries.items():
            kept = {name: value for name, value in baseline.get(key, {}).items() if name not in args.drop}
            baseline[key] = dict(sorted({**kept, **fresh}.items()))
        atomic.write_json(args.baseline, baseline)
        print(f"compare: added or renewed {', '.join(added) or 'nothing'}"
              f"{', dropped ' + ', '.join(args.drop) if args.drop else ''} in {args.baseline}")
        return 0
    baseline_path = Path(args.baseline)
    if not baseline_path.is_file():
        raise SystemExit(f"compare: no baseline at {baseline_path}; make one with --write-baseline")
    if len(runs) > 1:
        raise SystemExit("compare: compare one run at a time; several runs make a baseline (--write-baseline)")
    baseline = _read(baseline_path)
    rows, failed = compare(runs[0], baseline, args.threshold, cannot_run_here)
    now = make_baseline(runs[:1])["machine"]
    print(f"baseline: {baseline['machine']['cpu']}, {baseline['machine']['cores']} cores; "
          f"this run: {now['cpu']}, {now['cores']} cores")
    if now["cpu"] != baseline["machine"]["cpu"]:
        print("compare: warning: another CPU than the baseline's; ratios can differ between CPUs, so for a local "
              "check make a baseline on this machine first (make bench-baseline) and do not commit it")
    print("Each time is relative to the reference kernel timed beside it; change = now / baseline.")
    print(tabulate(rows, headers=["benchmark", "baseline (x ref)", "now (x ref)", "change", "verdict"],
                   floatfmt=".4g", missingval="-"))
    if failed:
        print(f"compare: {len(failed)} benchmark(s) failed: {', '.join(failed)}")
        return 1
    print(f"compare: no benchmark slowed by more than {args.threshold}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
