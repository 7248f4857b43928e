"""Real image sets that ship inside an installed package, written out as a folder of class folders, so that
the suite can be tried on data that is not CIFAR-10 with no download."""

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..errors import SmateError

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digits():
    """scikit-learn's copy of the UCI optical handwritten digits: 1,797 8x8 grayscale images, 16 grey levels,
    scaled here to 0-255. Returns (uint8 images N x 8 x 8, labels, class names)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = np.round(data.images * (255 / 16)).astype(np.uint8)
    return images, data.target.astype(np.int64), DIGIT_NAMES


EXAMPLES = {"digits": digits}


def write_example(name, folder):
    """Write example `name` to `folder` as <class>/<index>.png (no train/test split: prepare draws one).
    Returns the number of images written. A folder that exists is left alone."""
    from PIL import Image

    if name not in EXAMPLES:
        raise SmateError(f"no example dataset {name!r}; choose one of {', '.join(EXAMPLES)}")
    folder = Path(folder)
    if folder.exists():
        raise SmateError(f"'{folder}' exists; remove it or write the example elsewhere (--to)")
    images, labels, names = EXAMPLES[name]()
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed at the end, so that a killed write leaves no half folder.
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.partial-"))
    try:
        for class_name in names:
            (tmp / class_name).mkdir()
        for index, (image, label) in enumerate(zip(images, labels)):
            Image.fromarray(image).save(tmp / names[label] / f"{index:05d}.png")
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return len(images)
