"""The hot paths at CPU sizes, one thread each. `python -m benchmark.compare` divides each time by
the reference kernel's, timed just before and after it, so a busy or slower machine moves both
alike and only a real slowdown moves the ratio."""

import copy

import numpy as np
import pytest
import torch

from benchmark.conftest import FIXTURE, REPO, reference_kernel
from smate.augment import ClassifierAugment, paper_augmentation
from smate.classify import CLASSIFIERS, train_step
from smate.classify._trainer import to_device
from smate.config import defaults
from smate.data import load_dataset
from smate.gan import LOSSES
from smate.gan.step import gan_step
from smate.gan.train import make_gan, to_unit_range
from smate.rebalance import REBALANCERS
from smate.rebalance._base import make_rebalancer
from smate.report import build_report

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
    if rebalancer.needs_synthetic:
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


def _repeatable(step, parts, modules):
    """Setup for benchmark.pedantic: every round restarts `step` from one warmed-up state of `modules`."""
    for _ in range(2):  # the first steps allocate optimizer state; rounds should not pay for that
        step(*parts)
    snapshot = [copy.deepcopy(module.state_dict()) for module in modules]

    def restore():
        for module, state in zip(modules, snapshot):
            module.load_state_dict(state)
        return parts, {}

    return restore


def test_gan_train_step(benchmark, imbalanced_set):
    params = defaults()["gan"]["train"]
    torch.manual_seed(0)
    generator, discriminator, opt_g, opt_d = make_gan(params)
    parts = (generator, discriminator, opt_g, opt_d, LOSSES[params["loss"]](), to_unit_range(imbalanced_set[0][:GAN_BATCH], "cpu"))
    setup = _repeatable(gan_step, parts, [generator, discriminator, opt_g, opt_d])
    stats = benchmark.pedantic(gan_step, setup=setup, rounds=STEP_ROUNDS)
    assert torch.isfinite(stats).all()


@pytest.mark.parametrize("model", list(CLASSIFIERS))
def test_classifier_train_step(benchmark, imbalanced_set, model):
    images, labels, _ = imbalanced_set
    torch.manual_seed(0)
    recipe = CLASSIFIERS[model](defaults()["classify"][model], num_classes=10)
    x = to_device(images, torch.tensor(120.0), torch.tensor(64.0), torch.device("cpu"), torch.float32)
    net = recipe.build(x).to(memory_format=torch.channels_last)
    recipe.configure(net, total_steps=1000, steps_per_epoch=100)
    parts = (net, recipe, x[:CLASSIFIER_BATCH], torch.from_numpy(labels[:CLASSIFIER_BATCH]))
    setup = _repeatable(train_step, parts, [net, recipe.optimizer])
    losses, _ = benchmark.pedantic(train_step, setup=setup, rounds=STEP_ROUNDS)
    assert torch.isfinite(losses).all()


def test_build_report(benchmark, tiny_results, tmp_path):
    def build():
        return build_report([tiny_results], REPO / "paper" / "reference.yaml", tmp_path / "report")

    benchmark.pedantic(build, rounds=8, iterations=1)
    assert (tmp_path / "report" / "report.md").is_file()
