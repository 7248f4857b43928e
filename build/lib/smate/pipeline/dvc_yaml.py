"""dvc.yaml and sweep/dvc.yaml, written from the stage declarations (stage_registry.py) by `smate-bench dvc-yaml`:
each DVC stage runs one smate-bench command, depends on the files it reads, the modules its content keys hold and
the params it declares, and declares what it writes. tests/test_dvc_yaml.py fails when the committed files differ."""

from pathlib import Path

from .. import atomic
from ..report.layout import DEFAULT_OUT, SWEEP_OUT
from .stage_registry import GROUPS, STAGES

MAIN, SWEEP = "dvc.yaml", "sweep/dvc.yaml"
# What the plan reads to list a group's stage instances (which methods, seeds and generator seeds run).
PLAN_PARAMS = ("methods", "seeds", "gan.generators", "gan.seed")
# A DVC stage that runs a group of ours says what happens inside it.
GROUP_NOTES = {"train": (
    "Every network the params train, in one process:",
    "{stages}.",
    "DVC reruns it when anything it reads changes; inside, each stage's content key (its own params and modules)",
    "keeps what is unchanged, so changing rebalance.smote reruns the smote runs only, and a classifier param",
    "retrains the feature net and no generator.")}
HEADER = (
    "Written by `smate-bench dvc-yaml` from the stage declarations in smate/pipeline/stage_registry.py: edit those,",
    "not this file (tests/test_dvc_yaml.py fails when the two differ). Each stage runs one smate-bench command and",
    "depends on the files it reads, the modules its content keys hold and the params.yaml keys it reads.",
)
MAIN_HEADER = HEADER + ("`dvc repro` runs them all; `smate-bench run` runs the same stages without DVC.",)
SWEEP_HEADER = HEADER + (
    "The ratio sweep (smate-bench sweep), apart from the main pipeline so that a plain `dvc repro` stays the",
    "paper's protocol: run it with `dvc repro sweep/dvc.yaml` (or `smate-bench repro sweep/dvc.yaml`). Each",
    "ratio is a whole run in results/sweep/ratio-R/, kept stage by stage by its content keys, so changing one",
    "method's params reruns that method's runs only.",
)
PLOTS = (
    "",
    "# With log.dvclive on, every classifier and GAN training of the run writes its per-epoch curves to",
    "# results/live/<stage>/ through DVCLive while it trains (one TSV a number, step = epoch), so `dvc plots show`",
    "# and DVC's VS Code extension follow whatever methods params.yaml lists; `smate-bench report` draws the",
    "# mean-over-seeds figures. .dvcignore hides DVCLive's summaries there, which are not curves.",
    "plots:",
    f"  - {DEFAULT_OUT}/live:",
    "      x: step",
)


def every_module(spec):
    """The modules a stage's keys may hold whatever methods the params name: a method's own modules are the
    whole of smate/rebalance (its code beyond them, listed apart)."""
    from ..rebalance import REBALANCERS

    names = [label for label in ("method", "variant") if label in spec.label]
    instances = [{name: method for name in names} for method in REBALANCERS] if names else [{}]
    found = [module for fields in instances for module in spec.modules(fields)]
    return _covered(["smate/rebalance" if module.startswith("smate/rebalance/") else module for module in found])


def dvc_params(specs, plan=False):
    """The params.yaml keys some of `specs` read: a templated one ("classify.{model}") as its section."""
    found = [param.split(".{")[0] for spec in specs for param in spec.params] + (list(PLAN_PARAMS) if plan else [])
    covered = _covered(found, separator=".")
    return sorted(covered) if len(specs) > 1 else covered  # a group's in order of their names


def _covered(entries, separator="/"):
    """`entries` in order, once each, without those a folder (or section) among them holds."""
    unique = list(dict.fromkeys(entries))
    return [e for e in unique if not any(e != o and e.startswith(o + separator) for o in unique)]


def stage_entry(name, specs, command, plan=False):
    """One dvc.yaml stage, as lines, for the stages `specs` that one command runs."""
    inputs = _covered([path for spec in specs for path in spec.inputs])
    modules = _covered([module for spec in specs for module in every_module(spec)])
    outputs = list({output.path: output for spec in specs for output in spec.outputs}.values())
    lines = [f"  {name}:", f"    cmd: {command}", "    deps:"]
    lines += [f"      - {dep}" for dep in _fill(inputs + modules)]
    params = dvc_params(specs, plan)
    if params:
        lines += ["    params:", *(f"      - {param}" for param in params)]
    for key, chosen in (("outs", [o for o in outputs if not o.metric]), ("metrics", [o for o in outputs if o.metric])):
        if chosen:
            lines.append(f"    {key}:")
            lines += _output_lines(chosen)
    return lines


def _output_lines(outputs):
    lines = []
    for output in outputs:
        flags = [f"persist: true{f'  # {output.why}' if output.why else ''}"] if output.persist else []
        flags += ["cache: false"] if not output.cache else []
        path = _fill([output.path])[0]
        lines += [f"      - {path}:", *(f"          {flag}" for flag in flags)] if flags else [f"      - {path}"]
    return lines


def _fill(paths):
    return [path.format(out=DEFAULT_OUT) for path in paths]


def main_yaml():
    """dvc.yaml: a stage for each stage with a command of its own, and one for each group."""
    lines, done = [*(f"# {line}" for line in MAIN_HEADER), "stages:"], set()
    for spec in STAGES.values():
        if spec.group in done:
            continue
        if spec.group:
            done.add(spec.group)
            specs = [STAGES[name] for name in GROUPS[spec.group]]
            note = GROUP_NOTES.get(spec.group, ())
            lines += [f"  # {line.format(stages=', '.join(GROUPS[spec.group]))}" for line in note]
            lines += stage_entry(spec.group, specs, f"smate-bench run --only {spec.group} --quiet --out {DEFAULT_OUT}", plan=True)
        else:
            command = spec.dvc_command or f"smate-bench {spec.name.replace('_', '-')} --quiet --out {{out}}"
            lines += stage_entry(spec.name, [spec], command.format(out=DEFAULT_OUT))
        lines.append("")
    return "\n".join(lines[:-1] + list(PLOTS)) + "\n"


def sweep_yaml():
    """sweep/dvc.yaml: one stage that runs the sweep, reading what every stage of its runs reads; the sweep's
    methods are sweep.methods, not methods."""
    specs = [spec for spec in STAGES.values() if spec.name != "report"]
    modules = _covered([module for spec in specs for module in every_module(spec)]
                       + ["smate/pipeline/sweep.py", "smate/pipeline/run.py", "smate/report"])
    params = sorted(_covered(["sweep", *(p for p in dvc_params(specs, plan=True) if p != "methods")], separator="."))
    lines = [*(f"# {line}" for line in SWEEP_HEADER), "stages:", "  sweep:", "    wdir: ..",
             f"    cmd: smate-bench sweep --quiet --out {SWEEP_OUT}", "    deps:", *(f"      - {m}" for m in modules),
             "    params:", *(f"      - {p}" for p in params), "    outs:",
             f"      - {SWEEP_OUT}:", "          persist: true  # kept for the content keys: a rerun redoes only what changed",
             "          cache: false"]
    return "\n".join(lines) + "\n"


def files():
    return {MAIN: main_yaml(), SWEEP: sweep_yaml()}


def write(root="."):
    """Write dvc.yaml and sweep/dvc.yaml under `root`; returns the paths it changed."""
    changed = []
    for name, text in files().items():
        path = Path(root) / name
        if not path.is_file() or path.read_text() != text:
            atomic.write_text(path, text)
            changed.append(path)
    return changed
