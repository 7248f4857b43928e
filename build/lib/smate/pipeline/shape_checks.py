"""Whether the run's models can take the prepared image size (a check that refuses), and whether they train at it in
reasonable time (one that warns); neither changes a result."""

import time

import numpy as np

from ..classify import CLASSIFIERS, train_classifier
from ..config import generator_methods
from ..errors import SmateError
from ..gan.models import upsampling_blocks
from .eta import duration


def check_image_shape(config, image_shape):
    """Stop with one line, before any training, when a model of the run cannot take (H, W, C) images."""
    height, width = image_shape[:2]
    model = config["classify"]["model"]
    need = CLASSIFIERS[model](config["classify"][model], 2).min_side()
    if min(height, width) < need:
        raise SmateError(f"classify.model {model} takes images of at least {need}x{need}, and these are "
                         f"{height}x{width}: set data.image_size to {need} or more (or choose another classify.model)")
    if generator_methods(config):
        upsampling_blocks((height, width))


# Past this many pixels an image trains slowly enough that a run should say so first: 10x 64x64 on a CPU (a camera
# image of 512x384 made one fast run on 88 images take 357 s and 6.5 GB), 10x 256x256 on a GPU.
SLOW_PIXELS = {"cpu": 10 * 64 * 64, "cuda": 10 * 256 * 256}
PROBE_IMAGES = 16


def warn_if_slow(config, image_shape, num_classes, n_train, runs, workers=1):
    """Before `runs` classifier runs on `n_train` images of (H, W, C), one line when the images are past SLOW_PIXELS:
    their size, the classifier's rate at it measured here on a few random images, the time the runs would take,
    and data.image_size as the fix. Returns the line, or None."""
    from ..classify import resolve_device

    height, width = image_shape[:2]
    device = resolve_device(config["classify"]["device"])
    if height * width <= SLOW_PIXELS.get(device.type, SLOW_PIXELS["cpu"]) or not runs:
        return None
    rate = measured_rate(config, image_shape, num_classes, device)
    model = config["classify"]["model"]
    epochs = config["classify"][model]["epochs"]
    seconds = runs * epochs * n_train / rate / workers
    line = (f"warning: the images are {height}x{width} ({height * width / 4096:.0f}x the pixels of 64x64); {model} trains "
            f"about {rate:.1f} images/s at that size on this {device.type} (measured now), so {runs} "
            f"{'runs' if runs > 1 else 'run'} of {epochs:g} epoch{'s' if epochs != 1 else ''} on {n_train} images "
            f"{'take' if runs > 1 else 'takes'} about {duration(seconds)}; set "
            "data.image_size (e.g. --set data.image_size=64) to train at a smaller size")
    print(line)
    return line


def measured_rate(config, image_shape, num_classes, device):
    """Train images a second of the run's classifier at (H, W, C) on `device`: a timed epoch over PROBE_IMAGES random
    images after one that warms up."""
    model = config["classify"]["model"]
    params = {**config["classify"][model], "epochs": 1, "batch_size": PROBE_IMAGES // 2}
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (PROBE_IMAGES, *image_shape), dtype=np.uint8)
    labels = np.arange(PROBE_IMAGES) % num_classes
    seconds = []
    for _ in range(2):
        recipe = CLASSIFIERS[model](params, num_classes)
        start = time.perf_counter()
        train_classifier(recipe, images, labels, images[:1], labels[:1], device=device, bf16=config["classify"]["bf16"])
        seconds.append(time.perf_counter() - start)
    return PROBE_IMAGES / seconds[-1]
