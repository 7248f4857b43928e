"""The hot paths at CPU sizes, one thread each. `python -m benchmark.compare` divides each time by
the reference kernel's, timed just before and after it, so a busy or slower machine moves both
alike and only a real slowdown moves the ratio."""

import copy
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from benchmark.conftest import FIXTURE, REPO, reference_kernel
from smate.data.augment import ClassifierAugment, paper_augmentation
from smate.classify import CLASSIFIERS, train_classifier, train_step
from smate.classify._trainer import to_device
from smate.config import defaults
from smate.data import load_dataset
from smate.gan import LOSSES
from smate.gan.step import gan_step
from smate.gan.train import make_gan, to_unit_range
from smate.precision import native_bf16
from smate.rebalance import REBALANCERS
from smate.rebalance._base import make_rebalancer
from smate.report import build_report
from smate.report.records import PAPER_REFERENCE
from tests.conftest import copy_pipeline

GAN_BATCH, CLASSIFIER_BATCH, AUGMENT_BATCH, PAPER_AUGMENT_BATCH = 32, 64, 1024, 256
# Train steps start each round from the same state: a model trained on by earlier rounds drifted
# to states whose steps took 1.5x as long in some runs and not in others.
STEP_ROUNDS = 10


def test_reference_kernel(benchmark):
    """The yardstick itself, timed like the rest: its ratio to its own local timing should stay near 1."""
    benchmark(reference_kernel)


def test_prepare_data(benchmark):
    dataset = benchmark(load_dataset, "imagefolder", FIXTURE)
    assert len(dataset.train_images) == 200


@pytest.mark.parametrize("method", list(REBALANCERS))
def test_rebalance_fit_resample(benchmark, imbalanced_set, method):
    images, labels, minority = imbalanced_set
    rebalancer = make_rebalancer(method, defaults()["rebalance"].get(method), seed=0)
    if rebalancer.kind == "generator":
        made = images[labels != minority][:300]
        rebalancer.use(made, np.full(len(made), minority))
    X, y = benchmark(rebalancer.fit_resample, images, labels)
    assert len(X) == len(y) > 0


def test_classifier_augmentation_batch(benchmark, imbalanced_set):
    x = torch.from_numpy(imbalanced_set[0][:AUGMENT_BATCH]).permute(0, 3, 1, 2).float()
    x = x.contiguous(memory_format=torch.channels_last)
    out = benchmark(ClassifierAugment(flip=True, translate=2), x)
    assert out.shape == x.shape


def test_paper_augmentation_batch(benchmark, imbalanced_set):
    x = torch.from_numpy(imbalanced_set[0][:PAPER_AUGMENT_BATCH]).permute(0, 3, 1, 2).float() / 255
    pipeline = paper_augmentation()
    out = benchmark(lambda: pipeline(x))
    assert out.shape == x.shape


def warm_up(step, parts):
    """The first steps, which allocate optimizer state (and compile a compiled model): timings should not pay for them."""
    for _ in range(2):
        step(*parts)


def _repeatable(step, parts, modules):
    """Setup for benchmark.pedantic: every round restarts `step` from one warmed-up state of `modules`."""
    warm_up(step, parts)
    snapshot = [copy.deepcopy(module.state_dict()) for module in modules]

    def restore():
        for module, state in zip(modules, snapshot):
            module.load_state_dict(state)
        return parts, {}

    return restore


# bf16 autocast is a speedup only where the CPU computes bf16 natively (paper-cpu turns it on there):
# its benchmarks catch that speedup being lost.
PRECISIONS = ["fp32", pytest.param("bf16", marks=pytest.mark.skipif(
    not native_bf16("cpu"), reason="this CPU has no native bf16 (AVX512-BF16 or AMX)"))]


@pytest.mark.parametrize("precision", PRECISIONS)
def test_gan_train_step(benchmark, imbalanced_set, precision):
    params = defaults()["gan"]["train"]
    torch.manual_seed(0)
    generator, discriminator, opt_g, opt_d = make_gan(params)
    autocast = torch.bfloat16 if precision == "bf16" else None
    parts = (generator, discriminator, opt_g, opt_d, LOSSES[params["loss"]](), to_unit_range(imbalanced_set[0][:GAN_BATCH], "cpu"),
             autocast)
    setup = _repeatable(gan_step, parts, [generator, discriminator, opt_g, opt_d])
    stats = benchmark.pedantic(gan_step, setup=setup, rounds=STEP_ROUNDS)
    assert torch.isfinite(stats).all()


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("model", list(CLASSIFIERS))
def test_classifier_train_step(benchmark, imbalanced_set, model, precision):
    images, labels, _ = imbalanced_set
    torch.manual_seed(0)
    recipe = CLASSIFIERS[model](defaults()["classify"][model], num_classes=10)
    dtype, autocast = (torch.bfloat16, torch.bfloat16) if precision == "bf16" else (torch.float32, None)
    x = to_device(images, torch.tensor(120.0), torch.tensor(64.0), torch.device("cpu"), dtype)
    net = recipe.build(x.float()).to(memory_format=torch.channels_last)
    recipe.configure(net, total_steps=1000, steps_per_epoch=100)
    parts = (net, recipe, x[:CLASSIFIER_BATCH], torch.from_numpy(labels[:CLASSIFIER_BATCH]), None, autocast)
    setup = _repeatable(train_step, parts, [net, recipe.optimizer])
    losses, _ = benchmark.pedantic(train_step, setup=setup, rounds=STEP_ROUNDS)
    assert torch.isfinite(losses).all()


def test_train_classifier_scoring_every_few_epochs(benchmark, imbalanced_set):
    """A short keras_cnn training that scores 2,000 test images only at its last epoch (eval_every):
    scoring them every epoch would cost about as much again."""
    images, labels, _ = imbalanced_set
    params = {**defaults()["classify"]["keras_cnn"], "epochs": 4, "batch_size": CLASSIFIER_BATCH}

    def train():
        recipe = CLASSIFIERS["keras_cnn"](params, num_classes=10)
        return train_classifier(recipe, images[:256], labels[:256], images[:2000], labels[:2000], device="cpu",
                                bf16=False, eval_every=4)

    result = benchmark.pedantic(train, rounds=3, iterations=1)
    assert [h["epoch"] for h in result.history] == [4]


def test_cli_startup(benchmark):
    """`smate-bench methods` as a new process: what every DVC stage pays before its work."""
    def start():
        return subprocess.run([sys.executable, "-m", "smate.cli", "methods"], capture_output=True, check=True)

    # A process start swings with the machine's other work more than a kernel does: many short rounds, the fastest kept.
    assert b"smote" in benchmark.pedantic(start, rounds=20, iterations=1, warmup_rounds=2).stdout


def test_build_report(benchmark, tiny_results, tmp_path):
    def build():
        return build_report([tiny_results], PAPER_REFERENCE, tmp_path / "report")

    benchmark.pedantic(build, rounds=8, iterations=1)
    assert (tmp_path / "report" / "report.md").is_file()


# Issue 26: the pipeline through DVC within 1.5x of `smate-bench run` on the same grid.
REPRO_OVER_RUN = 1.5


def test_dvc_repro_tiny(benchmark, tmp_path_factory):
    """A small grid of the tiny preset (two methods, SMate, one seed) through `dvc repro` in a fresh copy of
    the pipeline: DVC's own work and a new process per dvc.yaml stage. Each round also times `smate-bench run`
    of the grid in another fresh copy, just before, and the fastest of each must stay within REPRO_OVER_RUN."""
    grid = ["--preset", "tiny", "--set", f"data.root={FIXTURE}", "--set", "seeds=0", "--set", "methods=imbalanced,smote,smate"]
    seconds = {"run": [], "repro": []}

    def timed_command(kind, arguments, root):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "smate.cli", kind, *arguments], cwd=root, capture_output=True,
                              text=True, check=True)
        seconds[kind].append(time.perf_counter() - start)
        return done

    def fresh_copy():
        timed_command("run", [*grid, "--quiet"], copy_pipeline(tmp_path_factory.mktemp("run")))
        return (copy_pipeline(tmp_path_factory.mktemp("pipeline")),), {}

    done = benchmark.pedantic(lambda root: timed_command("repro", grid, root), setup=fresh_copy, rounds=2, iterations=1)
    assert "Running stage 'report'" in done.stdout
    ratio = min(seconds["repro"]) / min(seconds["run"])
    benchmark.extra_info.update(run_seconds=min(seconds["run"]), repro_over_run=round(ratio, 3))
    assert ratio <= REPRO_OVER_RUN, f"dvc repro took {ratio:.2f}x as long as smate-bench run: {seconds}"
