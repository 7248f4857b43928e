"""Inputs for the hot-path benchmarks, at sizes a 2-core CPU times in seconds, and the yardstick
every benchmark is measured against."""

import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from smate.cli import main
from smate.data import load_dataset
from smate.report.records import PAPER_REFERENCE

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "cifar10-mini"
PER_MAJORITY_CLASS, MINORITY = 220, 22  # 2,002 images: nine classes of 220 and the truck at 10%
REFERENCE_REPEATS = 3

# One thread everywhere: on a shared 2-core machine a second thread's speed is up to the neighbours.
torch.set_num_threads(1)
threadpool_limits(1)


def _reference_inputs():
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(8, 32, 32, 32, generator=generator)
    weight = torch.randn(64, 32, 3, 3, generator=generator, requires_grad=True)
    rng = np.random.default_rng(0)
    pixels = rng.random((500, 3072), dtype=np.float32)
    stream = rng.random(8_000_000)  # 64 MB, more than the caches hold
    return images, weight, pixels, stream, np.empty_like(stream)


REFERENCE_INPUTS = _reference_inputs()


def reference_kernel(inputs=REFERENCE_INPUTS):
    """Fixed work in three equal parts on our CPU: a conv forward and backward (torch), a Gram matrix
    (BLAS) and a 64 MB copy (memory bandwidth, which the neighbours share too)."""
    images, weight, pixels, stream, target = inputs
    F.conv2d(images, weight, padding=1).square().sum().backward()
    np.copyto(target, stream)
    return pixels @ pixels.T


def fastest_reference():
    times = []
    for _ in range(REFERENCE_REPEATS):
        start = time.perf_counter()
        reference_kernel()
        times.append(time.perf_counter() - start)
    return min(times)


@pytest.fixture(autouse=True)
def local_reference(benchmark):
    """The reference kernel's fastest time just before and just after each benchmark, saved with it, so the
    comparison divides by the machine's speed at that moment, not at the start of the session."""
    before = fastest_reference()
    yield
    benchmark.extra_info["reference_seconds"] = min(before, fastest_reference())


@pytest.fixture(scope="session")
def fixture_dataset():
    return load_dataset("imagefolder", FIXTURE)


@pytest.fixture(scope="session")
def imbalanced_set(fixture_dataset):
    """About 2,000 distinct images: the fixture's real ones repeated with a little noise, minority last."""
    rng = np.random.default_rng(0)
    images, labels = fixture_dataset.train_images, fixture_dataset.train_labels
    truck = fixture_dataset.classes.index("truck")
    parts, part_labels = [], []
    for class_id in range(len(fixture_dataset.classes)):
        count = MINORITY if class_id == truck else PER_MAJORITY_CLASS
        members = images[labels == class_id]
        picked = members[np.resize(np.arange(len(members)), count)].astype(np.int16)
        picked += rng.integers(-8, 9, picked.shape, dtype=np.int16)
        parts.append(np.clip(picked, 0, 255).astype(np.uint8))
        part_labels.append(np.full(count, class_id, dtype=np.int64))
    return np.concatenate(parts), np.concatenate(part_labels), truck


@pytest.fixture(scope="session")
def tiny_results(tmp_path_factory):
    """Real runs for the report to read: the tiny preset, four methods, two seeds, no GANs."""
    out = tmp_path_factory.mktemp("tiny")
    args = ["run", "--preset", "tiny", "--set", f"data.root={FIXTURE}", "--set", "methods=full,imbalanced,smote,class_weight",
            "--quiet", "--out", str(out), "--reference", str(PAPER_REFERENCE)]
    assert main(args) == 0
    return out
