"""Every stage of the pipeline, declared once: its name, what one instance of it is made for (a variant, a
method and seed, a generator seed), the stages it reads, its output, the params it reads, the code its output
depends on and the files it reads and writes. The plan (run.py), the content keys (keys.py), the CLI's stage
commands (smate/cli.py), the command each "missing" error names (remake) and dvc.yaml (dvc_yaml.py) are made
from these declarations.

A stage computes through a view of the params that holds only what it declared (declared.py), so a param its
code reads and its key leaves out stops it, in every test that runs it, instead of keeping a stale result.
"""

import functools
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..config import (generator_methods, generator_seed_of, generator_seeds, plain_methods, pretrain_seed_of, pretrain_seeds,
                      split_seed_of)
from ..rebalance import REBALANCERS
from ..registry import Registry, load
from ..report import layout
from .declared import DeclaredParams
from .live import epoch_logger

# The code every classifier's training reads: the classifier run, and the feature and guide nets.
CLASSIFIER_CODE = ("smate/classify", "smate/data/augment.py", "smate/precision.py")
CLASSIFIER_PARAMS = ("classify.model", "classify.device", "classify.bf16", "classify.eval_every", "classify.{model}")
DATA_CODE = ("smate/data/dataset.py", "smate/data/images.py", "smate/data/sources", "smate/data/split.py")
# What dataset.json and split.json record of the params they were made with (smate/pipeline/stages.py checks them).
DATASET_KEYS = ("source", "root", "max_train_per_class", "max_test_per_class", "test_fraction", "test_seed",
                "image_size", "resize", "channels", "path_column", "label_column", "split_column")
SPLIT_KEYS = ("minority", "profile", "ratio", "imbalance_factor", "seed")
GAN_CODE = ("smate/pipeline/stages.py", "smate/gan", "smate/precision.py")


@dataclass(frozen=True)
class Instance:
    """One run of a stage: the keyword fields its function takes, the stages it reads (they finish first),
    and those of them whose keys enter its key (default: all)."""

    fields: dict = field(default_factory=dict)
    after: tuple = ()
    keyed_on: tuple = None


@dataclass(frozen=True)
class Output:
    """A file or folder a stage writes, as dvc.yaml declares it: "{out}/..." under the output folder."""

    path: str
    persist: bool = False  # DVC keeps it when the stage reruns (the content keys keep what is unchanged inside)
    cache: bool = True  # DVC stores it in its cache; False for outputs git tracks or that are large and rewritten
    metric: bool = False  # a metrics file that `dvc metrics show` reads
    why: str = None  # a comment beside it in dvc.yaml


# What every stage that trains reads of the prepared data.
PREPARED = ("{out}/prepared/dataset.npz", "{out}/prepared/split.json")
GAN_OUTPUT = Output("{out}/gan", persist=True, why="kept for the content keys, and for checkpoints a killed run resumes from")


@dataclass(frozen=True)
class Stage:
    name: str
    run: str  # "module.function" in smate, called run(params, out, **fields) with a view of what it declared;
    # named, not imported, so that the CLI starts without torch
    help: str
    instances: Callable  # (config, context) -> [Instance]: what the plan holds of it
    params: tuple = ()  # the dotted params it reads, "{method}" and "{model}" filled in per instance
    code: tuple = ()  # the package modules its output depends on besides its function's own module
    output: Callable = None  # (out, **fields) -> the file or folder whose presence shows it finished
    label: tuple = ()  # the fields that name an instance (train@smote-0) and are the CLI command's options
    keyed: bool = True  # False: it takes seconds and its inputs change with every run; it always reruns
    group: str = None  # the dvc.yaml stage that runs it among others (`smate-bench run --only GROUP`)
    network: bool = False  # it trains or runs a network: a GPU where a Ray cluster has one
    command: bool = True  # it has a CLI command of its own, `smate-bench <name with dashes>`
    reads: str = "split"  # what of OUT/prepared/ it reads, checked against the params first: split, dataset or nothing
    inputs: tuple = PREPARED  # the files it reads, "{out}/..." under the output folder (dvc.yaml's deps)
    outputs: tuple = ()  # the Outputs it writes (dvc.yaml's outs)
    dvc_command: str = None  # the command dvc.yaml runs, when it is not the stage's (or its group's) own

    def step_name(self, fields):
        return self.name + ("@" + "-".join(str(fields[name]) for name in self.label) if self.label else "")

    def declared(self, config, fields=None):
        """The dotted params this stage reads, its templates filled in for one instance; a stage that reads
        the split reads data.seed, which says whose kept images its seed reads."""
        values = {"model": config["classify"]["model"], "method": "", **(fields or {})}
        split = ("data.seed",) if self.reads == "split" else ()
        return tuple(dict.fromkeys((*(name.format(**values) for name in self.params), *split)))

    def split_seed(self, config, fields):
        """The split seed of the kept images this instance reads; None when it reads no split of its own."""
        seed = fields.get("seed", fields.get("generator_seed"))
        return None if self.reads != "split" or seed is None else split_seed_of(config, seed)

    def modules(self, fields=None):
        """The package modules its output depends on: its own function's, its declared ones, and for a
        classifier run or a GAN method's generators that method's (its class says what they train on)."""
        own = "smate/" + self.run.rpartition(".")[0].replace(".", "/") + ".py"
        method = (fields or {}).get("method") or (fields or {}).get("variant")
        return tuple(dict.fromkeys((own, *self.code, *(_method_code(method) if method else ()))))

    def function(self):
        module, _, name = self.run.rpartition(".")
        return load(f"smate.{module}:{name}")


STAGES = Registry("stage")


def stage(name, run, help, **declaration):
    """Declare a stage; the decorated function gives its instances for a config."""
    def declare(instances):
        STAGES.register(name)(Stage(name, run, help, instances, **declaration))
        return instances
    return declare


def remake(name, **fields):
    """The command that makes one instance of stage `name` again (what an error about its missing output says to run)."""
    spec = STAGES[name]
    options = "".join(f" --{label.replace('_', '-')} {fields[label]}" for label in spec.label if fields.get(label) is not None)
    return f"smate-bench {name.replace('_', '-')}{options}"


def _method_code(method):
    """The modules that define a registered method: its class's and its base classes' ("smate/..."), and
    those it declares its runs read besides."""
    modules = {cls.__module__ for cls in REBALANCERS[method].__mro__ if cls.__module__.startswith("smate.")}
    return tuple(sorted({module.replace(".", "/") + ".py" for module in modules} | set(REBALANCERS[method].code)))


def _variants(config, wanted=lambda method: True):
    """The params' generator methods whose class `wanted` accepts."""
    return [v for v in generator_methods(config) if wanted(REBALANCERS[v])]


@stage("prepare", "pipeline.stages.prepare", "load the dataset into one uint8 array (OUT/prepared/dataset.npz)",
       params=tuple(f"data.{key}" for key in DATASET_KEYS), code=DATA_CODE,
       keyed=False, reads="nothing", inputs=(),
       outputs=(Output("{out}/prepared/dataset.npz"), Output("{out}/prepared/dataset.json")))
def _prepare(config, context):
    return [Instance()]


@stage("split", "pipeline.stages.split", "cut the minority classes to data.ratio, a draw per split seed (OUT/prepared/split.json)",
       params=(*(f"data.{key}" for key in SPLIT_KEYS), "seeds", "gan.generators", "gan.seed"), code=DATA_CODE,
       keyed=False, reads="dataset", inputs=("{out}/prepared/dataset.npz", "{out}/prepared/dataset.json"),
       outputs=(Output("{out}/prepared/split.json"),))
def _split(config, context):
    return [Instance(after=("prepare",))]


@stage("pretrain_gan", "pipeline.gan_stages.pretrain_gan", "train the GAN on the majority classes of the imbalanced set "
       "(OUT/gan/pretrained/seed-G/)", params=("gan.train", "gan.pretrain", "gan.device"), code=GAN_CODE,
       output=lambda out, generator_seed: layout.training_dir(out, "pretrained", generator_seed) / "generator.pt",
       label=("generator_seed",), group="train", network=True, outputs=(GAN_OUTPUT,))
def _pretrain(config, context):
    if not _variants(config, lambda method: method.pretrained):
        return []
    return [Instance({"generator_seed": g}, ("split",)) for g in pretrain_seeds(config)]


@stage("guide_net", "pipeline.gan_stages.guide_net", "train SMate+'s classifier on the imbalanced set (OUT/gan/guide_net-seed-G.pt)",
       params=CLASSIFIER_PARAMS, code=("smate/pipeline/stages.py", *CLASSIFIER_CODE),
       output=lambda out, generator_seed: layout.guide_net_path(out, generator_seed),
       label=("generator_seed",), group="train", network=True, outputs=(GAN_OUTPUT,))
def _guide(config, context):
    if not _variants(config, lambda method: method.guided):
        return []
    return [Instance({"generator_seed": g}, ("split",)) for g in generator_seeds(config)]


@stage("transfer_gan", "pipeline.gan_stages.transfer_gan", "train a GAN method's generator for each minority class "
       "(OUT/gan/VARIANT/seed-G/generators/)",
       params=("gan.train", "gan.transfer", "gan.conditional", "gan.device", "gan.generators", "gan.seed"),
       code=(*GAN_CODE, "smate/data/augment.py", "smate/data/fills.py", "smate/classify"),
       output=lambda out, variant, generator_seed: layout.training_dir(out, variant, generator_seed) / "generators",
       label=("variant", "generator_seed"), group="train", network=True, outputs=(GAN_OUTPUT,))
def _transfer(config, context):
    planned = []
    for variant in _variants(config):
        method = REBALANCERS[variant]
        for g in generator_seeds(config):
            after = ((f"pretrain_gan@{pretrain_seed_of(config, g)}",) if method.pretrained else ("split",)) \
                + ((f"guide_net@{g}",) if method.guided else ())
            planned.append(Instance({"variant": variant, "generator_seed": g}, after))
    return planned


@stage("synthesize", "pipeline.gan_stages.synthesize", "sample the images a GAN method adds (OUT/gan/VARIANT/seed-G/synthetic.npz, .png)",
       params=("gan.train.architecture", "gan.device", "gan.generators", "gan.seed", "seeds"), code=GAN_CODE,
       output=lambda out, variant, generator_seed: layout.synthetic_path(out, variant, generator_seed),
       label=("variant", "generator_seed"), group="train", network=True, outputs=(GAN_OUTPUT,))
def _synthesize(config, context):
    return [Instance({"variant": v, "generator_seed": g}, (f"transfer_gan@{v}-{g}",))
            for v in _variants(config) for g in generator_seeds(config)]


@stage("feature_net", "pipeline.gan_stages.feature_net", "train the classifier whose features score the generators "
       "(OUT/gan/feature_net.pt)", params=("gan.seed", *CLASSIFIER_PARAMS), code=("smate/pipeline/stages.py", *CLASSIFIER_CODE),
       output=lambda out: layout.feature_net_path(out), group="train", network=True, reads="dataset",
       inputs=("{out}/prepared/dataset.npz",), outputs=(GAN_OUTPUT,))
def _feature_net(config, context):
    return [Instance(after=("prepare",))] if _variants(config) else []


@stage("gan_quality", "pipeline.gan_stages.gan_quality", "score a GAN method's images: FD, KD, precision/recall, memorization "
       "(OUT/gan/VARIANT/quality.json)",
       params=("classify.device", "seeds", "gan.generators", "gan.seed", "gan.train.batch_size"),
       code=("smate/pipeline/stages.py", "smate/gan/quality.py", "smate/classify"),
       output=lambda out, variant: layout.quality_path(out, variant),
       label=("variant",), keyed=False, group="train", network=True, outputs=(GAN_OUTPUT,))
def _quality(config, context):
    return [Instance({"variant": v}, ("feature_net", *(f"synthesize@{v}-{g}" for g in generator_seeds(config))))
            for v in _variants(config)]


@stage("pretrain_quality", "pipeline.gan_stages.pretrain_quality", "score the majority pretraining's snapshots: its "
       "quality curve, FD, precision and recall against its minutes (OUT/gan/pretrained/seed-G/quality.json)",
       params=("classify.device", "gan.train"), code=("smate/pipeline/stages.py", "smate/gan", "smate/classify"),
       output=lambda out, generator_seed: layout.training_dir(out, "pretrained", generator_seed) / "quality.json",
       label=("generator_seed",), group="train", network=True, outputs=(GAN_OUTPUT,))
def _pretrain_quality(config, context):
    if not _variants(config, lambda method: method.pretrained):
        return []
    return [Instance({"generator_seed": g}, ("feature_net", f"pretrain_gan@{g}")) for g in pretrain_seeds(config)]


@stage("train", "pipeline.train.train", "rebalance with one method, train one classifier, score it (OUT/runs/METHOD-SEED/)",
       params=("rebalance.{method}", "classify.eval_batch_size", "classify.budget", *CLASSIFIER_PARAMS),
       code=("smate/classify/metrics.py", "smate/report/summary.py", *CLASSIFIER_CODE),
       output=lambda out, method, seed, generator_seed=None: layout.run_dir(out, method, seed) / "metrics.json",
       label=("method", "seed"), group="train", network=True,
       outputs=(Output("{out}/runs", persist=True, cache=False),))
def _train(config, context):
    # Seed by seed, so that a run cut short has every method's first seeds.
    planned = []
    for seed in config["seeds"]:
        plain = plain_methods(config)
        planned += [Instance({"method": m, "seed": seed}, ("split",)) for m in plain if REBALANCERS[m].kind != "decoupled"]
        # A decoupled method starts from its base run's network: that run's key enters its key.
        planned += [Instance({"method": m, "seed": seed}, ("split", f"train@{REBALANCERS[m].base_method}-{seed}"))
                    for m in plain if REBALANCERS[m].kind == "decoupled"]
        for method in generator_methods(config):
            g = generator_seed_of(config, seed)
            # Its images depend on the generator and the seed, not on the other seeds drawn with them.
            planned.append(Instance({"method": method, "seed": seed, "generator_seed": g},
                                    (f"synthesize@{method}-{g}",), (f"transfer_gan@{method}-{g}",)))
    return planned


@stage("summarize", "pipeline.stages.summarize", "one table over every method and seed (OUT/summary.csv, OUT/summary.md, OUT/metrics.json)",
       params=("methods", "seeds"), code=("smate/report/summary.py",), keyed=False, reads="nothing",
       inputs=("{out}/runs", "{out}/gan"),
       outputs=(Output("{out}/summary.csv", cache=False), Output("{out}/summary.md", cache=False),
                Output("{out}/metrics.json", cache=False, metric=True)))
def _summarize(config, context):
    scored = [name for name in context["planned"] if name.partition("@")[0] in ("train", "gan_quality")]
    return [Instance(after=tuple(scored))]


@stage("report", "pipeline.stages.report", "the paper's table, paper vs reproduced and the paper's claims, from results files alone",
       params=("report.metric",), code=("smate/report", "smate/rebalance", "smate/gan/collapse.py"), keyed=False, command=False, reads="nothing",
       inputs=("{out}/runs", "{out}/gan", "{out}/summary.csv", "smate/report/paper_reference.yaml"),
       outputs=(Output("{out}/report", cache=False), Output("paper/REPRODUCTION.md", cache=False)),
       dvc_command="smate-bench report --results {out} --reproduction paper/REPRODUCTION.md")
def _report(config, context):
    if context.get("reference") is None:
        return []
    return [Instance({"reference": context["reference"], "reproduction": context.get("reproduction")}, ("summarize",))]


# The stage groups dvc.yaml runs as one process each (`smate-bench run --only GROUP`): a DVC stage is
# a new process, and 37 of them took 10x as long as one `run` on the tiny preset; the GAN stages and the
# classifier runs in two groups, with their workers' imports twice, still took 1.7x as long.
GROUPS = {group: [spec.name for spec in STAGES.values() if spec.group == group]
          for group in dict.fromkeys(spec.group for spec in STAGES.values() if spec.group)}


@dataclass
class Step:
    """One stage instance of a plan, ready to run: the pipeline's executors take these."""

    stage: Stage
    out: Path
    fields: dict
    after: tuple
    keyed_on: tuple
    run: Callable  # no arguments; picklable, for worker processes and Ray tasks

    @property
    def name(self):
        return self.stage.step_name(self.fields)

    @property
    def kind(self):
        return self.stage.name

    @property
    def output(self):
        return None if self.stage.output is None else self.stage.output(self.out, **self.fields)


def plan(config, out, progress=True, reference=None, reproduction=None):
    """Every stage instance of a run, in order (a stage after the ones it reads)."""
    out = Path(out)
    context = {"reference": reference, "reproduction": reproduction, "planned": []}
    steps = []
    for spec in STAGES.values():
        for instance in spec.instances(config, context):
            run = functools.partial(execute, spec.name, config, out, instance.fields, progress)
            steps.append(Step(spec, out, instance.fields, instance.after,
                              instance.after if instance.keyed_on is None else instance.keyed_on, run))
            context["planned"].append(steps[-1].name)
    return steps


def execute(name, config, out, fields, progress=True):
    """Run stage `name` for one instance, through a view of the params it declared; a stage that trains
    gets its epochs' logger (log.dvclive, read here since it changes no result and no key holds it)."""
    spec = STAGES[name]
    params = DeclaredParams(config, spec.declared(config, fields), spec.step_name(fields))
    run = spec.function()
    takes = inspect.signature(run).parameters
    extra = {"progress": progress} if "progress" in takes else {}
    if "on_epoch" not in takes:
        return run(params, out, **fields, **extra)
    with epoch_logger(out, spec.step_name(fields), config["log"]["dvclive"]) as on_epoch:
        return run(params, out, **fields, **extra, on_epoch=on_epoch)
