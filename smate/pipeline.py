"""Every stage in order, without DVC: what `smate-bench run` and `smate-bench regimes` do."""

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from . import gan_stages, report, stages
from .classify import CLASSIFIERS
from .config import apply_override
from .rebalance import REBALANCERS


@dataclass
class Step:
    name: str  # the DVC stage it matches, e.g. "train@smote-0"
    run: Callable[[], object]
    done: Callable[[], bool] = None  # whether its outputs are already there, made with the same inputs

    @property
    def kind(self):
        """The stage without its variant: "train", "train_gan", "transfer_gan", ..."""
        return self.name.partition("@")[0]


def steps(config, out, progress=True, reference=None, reproduction=None):
    """Every stage of a run, in dvc.yaml's order, as named calls (the GPU timing run times each)."""
    variants = config["gan_methods"]
    plan = [Step("prepare", partial(stages.prepare, config, out, progress)),
            Step("split", partial(stages.split, config, out))]
    if any(REBALANCERS[variant].pretrained for variant in variants):
        plan.append(Step("pretrain_gan", partial(gan_stages.pretrain_gan, config, out, progress)))
    for variant in variants:
        plan.append(Step(f"transfer_gan@{variant}", partial(gan_stages.transfer_gan, config, out, variant, progress)))
        plan.append(Step(f"synthesize@{variant}", partial(gan_stages.synthesize, config, out, variant)))
    if variants:
        plan.append(Step("feature_net", partial(gan_stages.feature_net, config, out, progress)))
    for variant in variants:
        plan.append(Step(f"gan_quality@{variant}", partial(gan_stages.gan_quality, config, out, variant)))
    for stage, methods in (("train", config["methods"]), ("train_gan", variants)):
        for method in methods:
            for seed in config["seeds"]:
                plan.append(Step(f"{stage}@{method}-{seed}", partial(stages.train, config, out, method, seed, progress),
                                 partial(stages.finished_run, config, out, method, seed)))
    plan.append(Step("summarize", partial(stages.summarize, config, out)))
    if reference is not None:
        plan.append(Step("report", partial(report.build_report, [out], reference, Path(out) / "report", reproduction)))
    return plan


def run_all(config, out, progress=True, reference=None, reproduction=None):
    """Every stage in order; with `reference` (the paper's numbers) also the report in OUT/report/.
    Runs already finished with the same parameters, data and commit are kept, so a killed run resumes."""
    start = time.perf_counter()
    plan = steps(config, out, progress, reference, reproduction)
    for step in tqdm(plan, desc="stages", unit="stage", disable=not progress):
        if step.done is not None and step.done():
            print(f"{step.name}: kept, made before with these parameters, data and commit")
            continue
        step.run()
    runs = sum(step.kind in ("train", "train_gan") for step in plan)
    print(f"run: {runs} runs in {time.perf_counter() - start:.1f} s; summary in {Path(out) / 'summary.md'}")


def run_regimes(config, out, reference, progress=True):
    """run_all once per classifier into OUT/<classifier>/, then one report of both in OUT/report/."""
    folders = []
    for model in CLASSIFIERS:
        folders.append(Path(out) / model)
        run_all(apply_override(config, f"classify.model={model}"), folders[-1], progress)
    return report.build_report(folders, reference, Path(out) / "report")
