"""smate-bench: run the benchmark's stages, all at once or one at a time (as DVC does)."""

import argparse
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from . import atomic
from .config import build_config, dump, generator_methods, generator_seeds, preset_names, pretrain_seeds, select_methods
from .errors import SmateError
from .rebalance import REBALANCERS
from .pipeline.stage_registry import GROUPS, STAGES
from .report.layout import DEFAULT_OUT, SWEEP_OUT


def _config_options(parser):
    parser.add_argument("--preset", help=f"a packaged preset ({', '.join(preset_names())}) or a YAML file of overrides")
    parser.add_argument("--params", help="params file to start from (default: ./params.yaml when it exists)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one parameter, e.g. --set data.ratio=0.05 --set methods=smote,adasyn")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _out_option(parser):
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"folder for every output (default: {DEFAULT_OUT}/)")


def build_parser():
    parser = argparse.ArgumentParser(prog="smate-bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    stage_commands = {spec.name.replace("_", "-"): spec for spec in STAGES.values() if spec.command}
    helps = {
        "run": "every stage without DVC: prepare, split, the GANs, train each method x seed, summarize, report",
        **{command: spec.help for command, spec in stage_commands.items()},
        "report": STAGES["report"].help,
        "regimes": "run everything with each classifier (fast, keras_cnn) into OUT/<classifier>/, then one report",
        "sweep": "run sweep.methods at each of sweep.ratios (OUT/ratio-R/) or, with sweep.over epochs, each of "
                 "sweep.epochs (OUT/epochs-E/), then one table and figure against it",
        "status": "list the stages a run (or a sweep) would redo in --out and why: params, code or data; exits 0 "
                  "when there are none, 1 otherwise (summarize and report, seconds each, always rerun)",
        "params": "print the merged parameters, or write them with --write",
        "repro": "write the merged parameters to params.yaml and run `dvc repro`",
        "methods": "list the registered rebalancing methods",
        "dvc-yaml": "write dvc.yaml and sweep/dvc.yaml from the stage declarations (in the current folder)",
        "example-data": "write a real image set that ships with an installed package (digits) as class folders",
        "findings": "render the findings pages (results/README.md, README.md's brief) from their templates, every number read from the "
                    "committed results; --check writes nothing and exits 1 where a page differs",
    }
    sub = {name: commands.add_parser(name, help=text, description=text) for name, text in helps.items()}
    for name in ("run", *stage_commands, "params", "repro", "regimes", "sweep", "status"):
        _config_options(sub[name])
    for name in ("run", *stage_commands, "regimes", "status"):
        _out_option(sub[name])
    sub["status"].add_argument("--no-data", action="store_true",
                               help="do not read data.root's files again to see whether they changed since prepare")
    for name, spec in stage_commands.items():
        for option in spec.label:
            sub[name].add_argument(f"--{option.replace('_', '-')}", **STAGE_OPTIONS[option])
    sub["params"].add_argument("--write", metavar="FILE", help="write to FILE instead of printing")
    sub["report"].add_argument("--results", nargs="+", default=[DEFAULT_OUT],
                               help=f"folders holding runs/ (default: {DEFAULT_OUT}/); runs of several are reported together")
    for name in ("run", "report", "regimes"):
        sub[name].add_argument("--reference", metavar="FILE",
                               help="the paper's numbers and claims (default: those that ship with smate-bench)")
    sub["run"].add_argument("--no-report", action="store_true", help="leave out OUT/report/ (the runs and summary only)")
    sub["report"].add_argument("--out", help="where to write (default: RESULTS/report/)")
    for name in ("run", "report"):
        sub[name].add_argument("--reproduction", metavar="FILE",
                               help="also write what of the paper holds to FILE (paper/REPRODUCTION.md)")
    for name in ("run", "sweep"):
        sub[name].add_argument("--workers", type=int, default=None,
                               help="processes that run independent stages at once, one thread each "
                                    "(default: 2 on a CPU, where it measured faster; 1 with a GPU)")
    for name in ("run", "sweep"):
        sub[name].add_argument("--executor", choices=("local", "ray"), default="local",
                               help="local: this machine's processes (default); ray: each stage a task on a Ray "
                                    "cluster, which must see the project at this path (README, Runs on a Ray cluster)")
        sub[name].add_argument("--address", help="with --executor ray: the cluster to join, e.g. auto or HOST:6379 "
                                                 "(default: RAY_ADDRESS, else a new local cluster of this machine's cores)")
    sub["sweep"].add_argument("--out", default=SWEEP_OUT, help=f"folder for every output (default: {SWEEP_OUT}/)")
    sub["run"].add_argument("--only", choices=tuple(GROUPS),
                            help="only one dvc.yaml stage's group of stages, on a split made before (as dvc.yaml does): "
                                 + "; ".join(f"{group}: {', '.join(names)}" for group, names in GROUPS.items()))
    sub["methods"].add_argument("--docs", metavar="FILE",
                                help="write the table of methods into FILE between its markers (docs/reference.md)")
    sub["example-data"].add_argument("name", help="digits: scikit-learn's 1,797 8x8 grayscale handwritten digits")
    sub["example-data"].add_argument("--to", help="the folder to write (default: data/NAME)")
    sub["findings"].add_argument("--check", action="store_true", help="write nothing; exit 1 where a page is stale")
    sub["findings"].add_argument("--root", default=".", help="the project's root, which holds results/ (default: .)")
    sub["repro"].add_argument("dvc_args", nargs=argparse.REMAINDER, help="passed on to `dvc repro`")
    return parser


# The options of the stage commands, one per field that names a stage instance (stage_registry.Stage.label).
STAGE_OPTIONS = {
    "variant": {"required": True, "help": "a generator method: " + ", ".join(
        name for name, cls in REBALANCERS.items() if cls.kind == "generator")},
    "method": {"required": True},
    "seed": {"type": int, "required": True},
    "generator_seed": {"type": int, "help": "the seed of the generators (default: the first the params train)"},
}


def _config(args):
    params = args.params
    if params is None and Path("params.yaml").is_file():
        params = "params.yaml"
    return build_config(params, args.preset, args.overrides)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except SmateError as err:
        print(f"smate-bench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("smate-bench: interrupted; finished outputs are kept, partial ones were removed", file=sys.stderr)
        return 130


def _dispatch(args):
    if args.command == "methods" and args.docs:
        from .report.method_table import write_docs

        print(f"methods: {'wrote' if write_docs(args.docs) else 'already up to date:'} the table in {args.docs}")
        return 0
    if args.command == "methods":
        for name in select_methods(["all"]):  # family by family, as `methods: [all]` runs them
            cls = REBALANCERS[name]
            print(f"{name:20s} {cls.kind:9s} {(cls.__doc__ or '').strip().splitlines()[0]}")
        return 0
    if args.command == "dvc-yaml":
        from .pipeline import dvc_yaml

        changed = dvc_yaml.write()
        print("dvc-yaml: " + (f"wrote {', '.join(map(str, changed))}" if changed else "dvc.yaml and sweep/dvc.yaml are up to date"))
        return 0
    if args.command == "example-data":
        from .data.example import write_example

        folder = args.to or f"data/{args.name}"
        print(f"example-data: wrote {write_example(args.name, folder)} images to {folder}/<class>/")
        return 0
    if args.command == "findings":
        from .report.pages import BLOCKS, PAGES, write_pages

        stale = write_pages(args.root, check=args.check)
        verb = "differs from its template's rendering (run smate-bench findings)" if args.check else "written"
        for page in stale:
            print(f"findings: {page} {verb}")
        if not stale:
            print(f"findings: {', '.join(map(str, [*PAGES, *BLOCKS]))} up to date")
        return 1 if args.check and stale else 0
    # Imported per command: each DVC stage is a new process, and `methods` needs neither torch nor seaborn.
    if args.command == "report":
        from . import report
        from .pipeline import sweep

        _check_writable(args.out or Path(args.results[0]) / "report")
        if (Path(args.results[0]) / sweep.PLAN).is_file():
            if len(args.results) > 1:
                raise SmateError(f"'{args.results[0]}' holds a sweep; report a sweep on its own")
            sweep.build_sweep_report(args.results[0], args.out)
        else:
            report.build_report(args.results, args.reference, args.out, args.reproduction)
        return 0
    config = _config(args)
    progress = not getattr(args, "quiet", False)
    if args.command == "params":
        if args.write:
            atomic.write_text(args.write, dump(config))
        else:
            print(dump(config), end="")
        return 0
    if args.command == "repro":
        return _repro(config, args.dvc_args)
    if args.command == "status":
        from .pipeline import status

        statuses = status.status(config, args.out, check_data=not args.no_data)
        print("\n".join(status.describe(statuses)))
        return 1 if any(folder.stale for folder in statuses) else 0
    _check_writable(args.out)
    from .pipeline import run as pipeline

    if args.command in ("run", "sweep"):
        with _executor(args) as executor:
            if args.command == "run":
                reference = None if args.only else _run_reference(args)
                pipeline.run_all(config, args.out, progress, reference, args.reproduction, executor, args.only)
            else:
                from .pipeline import sweep

                sweep.run_sweep(config, args.out, progress, executor)
    elif args.command == "regimes":
        pipeline.run_regimes(config, args.out, args.reference, progress)
    else:
        pipeline.run_step(config, args.out, _stage_name(args, config), progress)
    return 0


@contextmanager
def _executor(args):
    """The local executor with its workers, or a Ray cluster (closed at the end when this run started it)."""
    if args.executor == "local":
        from .pipeline.local_executor import LocalExecutor, default_workers

        if args.address:
            raise SmateError("--address is for --executor ray; add --executor ray to run on that cluster")
        workers = default_workers() if args.workers is None else args.workers
        if workers < 1:
            raise SmateError(f"--workers must be 1 or more, got {workers}")
        yield LocalExecutor(workers)
        return
    if args.workers is not None:
        raise SmateError("--workers is for the local executor; on Ray each stage asks for a CPU (or a GPU), "
                         "and the cluster's size sets how many run at once")
    from .pipeline.ray_executor import RayCluster

    cluster = RayCluster(args.address)
    try:
        yield cluster
    finally:
        cluster.close()


def _check_writable(folder):
    """Stop before any work when `folder` cannot be written, as with a container's results mount owned by another user."""
    path = Path(folder).absolute()
    while not path.exists():
        path = path.parent
    if not os.access(path, os.W_OK | os.X_OK):
        uid = os.getuid()
        raise SmateError(f"cannot write to '{path}': it belongs to uid {path.stat().st_uid} and this runs as uid {uid}; "
                         f"give uid {uid} the folder (chown -R {uid} on it, on the host for a container's mount) "
                         'or run the container as its owner (docker run --user "$(id -u):$(id -g)" ...)')


def _stage_name(args, config):
    """The stage instance a stage command runs, e.g. `train --method smote --seed 0` is train@smote-0."""
    spec = STAGES[args.command.replace("-", "_")]
    if "method" in spec.label and args.method not in config["methods"]:
        raise SmateError(f"method {args.method!r} is not in methods of the params; "
                         f"add it there, e.g. --set methods={args.method}")
    if "variant" in spec.label and args.variant not in generator_methods(config):
        raise SmateError(f"variant {args.variant!r} is not a generator method in methods of the params; "
                         f"add it, e.g. --set methods={args.variant}")
    if "generator_seed" in spec.label:
        seeds = pretrain_seeds(config) if spec.name == "pretrain_gan" else generator_seeds(config)
        if args.generator_seed is None:
            args.generator_seed = seeds[0]
        elif args.generator_seed not in seeds:
            raise SmateError(f"--generator-seed {args.generator_seed} is not a seed the params train generators with "
                             f"({', '.join(map(str, seeds))}; gan.generators {config['gan']['generators']})")
    return spec.step_name(vars(args))


def _run_reference(args):
    """The paper's numbers the run's report reads (the package's unless --reference names a file), or None with
    --no-report."""
    if args.no_report:
        if args.reproduction:
            raise SmateError("--reproduction writes the report's findings: leave out --no-report")
        return None
    from .report.records import PAPER_REFERENCE

    return args.reference or str(PAPER_REFERENCE)


def _repro(config, dvc_args):
    if not Path("dvc.yaml").is_file():
        raise SmateError("no dvc.yaml here; run `smate-bench repro` from the smate-bench repository root")
    dvc = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))
    if not os.path.exists(dvc):
        raise SmateError("dvc is not installed; `pip install dvc`, or run the same stages with `smate-bench run`")
    atomic.write_text("params.yaml", dump(config))
    print("repro: wrote params.yaml; running dvc repro", flush=True)
    # DVC runs each stage's `smate-bench ...` through the shell: put this interpreter's scripts first
    # on its PATH, so that a venv works without being activated.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    return subprocess.run([dvc, "repro", *dvc_args], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
