"""Every stage in order, without DVC: what `smate-bench run` and `smate-bench regimes` do."""

import time
from pathlib import Path

from tqdm import tqdm

from . import gan_stages, report, stages
from .classify import CLASSIFIERS
from .config import all_methods, apply_override
from .rebalance import REBALANCERS


def run_all(config, out, progress=True, reference=None, reproduction=None):
    """Every stage in order; with `reference` (the paper's numbers) also the report in OUT/report/."""
    start = time.perf_counter()
    stages.prepare(config, out, progress)
    stages.split(config, out)
    variants = config["gan_methods"]
    if any(REBALANCERS[variant].pretrained for variant in variants):
        gan_stages.pretrain_gan(config, out, progress)
    for variant in variants:
        gan_stages.transfer_gan(config, out, variant, progress)
        gan_stages.synthesize(config, out, variant)
    if variants:
        gan_stages.feature_net(config, out, progress)
    for variant in variants:
        gan_stages.gan_quality(config, out, variant)
    jobs = [(method, seed) for method in all_methods(config) for seed in config["seeds"]]
    for method, seed in tqdm(jobs, desc="runs", unit="run", disable=not progress):
        stages.train(config, out, method, seed, progress)
    table = stages.summarize(config, out)
    if reference is not None:
        report.build_report([out], reference, Path(out) / "report", reproduction)
    print(f"run: {len(jobs)} runs in {time.perf_counter() - start:.1f} s; summary in {Path(out) / 'summary.md'}")
    return table


def run_regimes(config, out, reference, progress=True):
    """run_all once per classifier into OUT/<classifier>/, then one report of both in OUT/report/."""
    folders = []
    for model in CLASSIFIERS:
        folders.append(Path(out) / model)
        run_all(apply_override(config, f"classify.model={model}"), folders[-1], progress)
    return report.build_report(folders, reference, Path(out) / "report")
