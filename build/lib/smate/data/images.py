"""Turn image files of any mode and size into uint8 HWC arrays of one size and channel count, in parallel.

The policy is the data params' image_size, resize and channels: decoding, mode conversion and resizing
all happen here, once, in `prepare`, so every later stage reads arrays of one shape.
"""

import hashlib
import io
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import SmateError

RESIZE_MODES = ("squash", "center_crop", "pad")
CHANNELS = ("auto", 1, 3)
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
# Below this many files one process decodes them all: a pool's start-up costs more than it saves.
PARALLEL_FROM = 2048
CHUNK = 256


def parse_size(value):
    """data.image_size as (height, width), or None for the images' own size: an int side or 'HxW'."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, value
    if isinstance(value, str):
        parts = value.lower().split("x")
        if len(parts) == 2 and all(p.strip().isdigit() and int(p) > 0 for p in parts):
            return int(parts[0]), int(parts[1])
    raise SmateError(f"data.image_size must be null, a side in pixels (32) or HEIGHTxWIDTH (32x48), got {value!r}")


@dataclass(frozen=True)
class Policy:
    """What every image becomes: `size` (height, width) or None to keep it, how it gets there, and
    `channels` (1 or 3) or None to decide from the images (1 when all are grayscale)."""

    size: tuple = None
    resize: str = "squash"
    channels: int = None

    @classmethod
    def from_params(cls, data):
        if data["resize"] not in RESIZE_MODES:
            raise SmateError(f"unknown data.resize {data['resize']!r}; choose one of: {', '.join(RESIZE_MODES)}")
        if data["channels"] not in CHANNELS:
            raise SmateError(f"data.channels must be auto, 1 or 3, got {data['channels']!r}")
        return cls(parse_size(data["image_size"]), data["resize"], None if data["channels"] == "auto" else data["channels"])


def to_array(image, policy):
    """(uint8 HWC array, whether the image is grayscale) for one PIL image under `policy`.

    Palette images become RGB (RGBA where the palette has transparency); alpha is composited over black,
    the colour that `pad` fills with; 16- and 32-bit grayscale is scaled to 8 bits (value / 257), not clipped.
    """
    if policy.size is not None and image.format == "JPEG":
        image.draft("RGB" if image.mode not in ("L", "1") else "L", (policy.size[1], policy.size[0]))
    gray = image.mode in GRAYSCALE_MODES
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        pixels = np.asarray(image, dtype=np.float64) / 257.0
        image = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "L")
    elif image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        image = image.convert("RGBA")
        backdrop = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(backdrop, image).convert("L" if gray else "RGB")
    elif image.mode not in ("L", "RGB"):
        image = image.convert("L" if gray else "RGB")
    if image.mode == "L" and policy.channels == 3:
        image = image.convert("RGB")
    elif image.mode == "RGB" and policy.channels == 1:
        image = image.convert("L")
    if policy.size is not None and image.size != (policy.size[1], policy.size[0]):
        image = _resize(image, policy)
    pixels = np.asarray(image, dtype=np.uint8)
    return (pixels[..., None] if pixels.ndim == 2 else pixels), gray


def convert_arrays(images, policy):
    """uint8 NHWC arrays (a source that ships arrays, such as CIFAR-10's batches) under `policy`."""
    size_kept = policy.size is None or tuple(policy.size) == images.shape[1:3]
    if size_kept and policy.channels in (None, images.shape[-1]):
        return images
    converted = [to_array(Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image), policy)[0]
                 for image in images]
    return np.stack(converted)


def _resize(image, policy):
    target = (policy.size[1], policy.size[0])  # PIL sizes are (width, height)
    if policy.resize == "squash":
        return image.resize(target, Image.BICUBIC)
    if policy.resize == "center_crop":
        return ImageOps.fit(image, target, Image.BICUBIC)
    return ImageOps.pad(image, target, Image.BICUBIC, color=0)


def _decode_one(blob, policy):
    try:
        with Image.open(io.BytesIO(blob)) as image:
            return to_array(image, policy)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def _decode_chunk(task):
    """Decode one chunk of files in a worker: (arrays or None, gray flags, each file's sha256)."""
    where, names, policy = task
    if isinstance(where, str) and where.endswith(".zip"):
        with zipfile.ZipFile(where) as archive:
            blobs = [archive.read(name) for name in names]
    else:
        blobs = [open(os.path.join(where, name), "rb").read() for name in names]
    results = [_decode_one(blob, policy) for blob in blobs]
    return results, [hashlib.sha256(blob).digest() for blob in blobs]


def decode_files(root, names, policy, progress=False, workers=None, describe=None):
    """(uint8 (N, H, W, C) array, each file's sha256 digest in order) of the files `names` under the
    folder or .zip `root`. Files are read in the workers, and each image lands in one preallocated array,
    so memory holds the prepared arrays and a chunk per worker, not every file's bytes."""
    from tqdm import tqdm

    describe = describe or (lambda name: f"{root}/{name}")
    tasks = [(str(root), names[i:i + CHUNK], policy) for i in range(0, len(names), CHUNK)]
    workers = workers or min(len(tasks), os.cpu_count() or 1)
    bar = tqdm(total=len(names), desc="decode images", unit="img", disable=not progress)
    sums, images, gray_flags, done = [], None, np.zeros(len(names), dtype=bool), 0
    pool = ProcessPoolExecutor(workers) if workers > 1 and len(names) >= PARALLEL_FROM else None
    try:
        chunks = pool.map(_decode_chunk, tasks) if pool else map(_decode_chunk, tasks)
        for (results, chunk_sums), (_, chunk_names, _) in zip(chunks, tasks):
            for name, result, file_sum in zip(chunk_names, results, chunk_sums):
                if result is None:
                    raise SmateError(f"cannot decode image '{describe(name)}'; remove or replace the corrupt file")
                pixels, gray = result
                if images is None:
                    # Room for three channels until every image is known to be grayscale (channels: auto).
                    images = np.empty((len(names), *pixels.shape[:2], policy.channels or 3), dtype=np.uint8)
                    first = name
                if pixels.shape[:2] != images.shape[1:3]:
                    raise SmateError(
                        f"images differ in size: '{describe(name)}' is {pixels.shape[1]}x{pixels.shape[0]}, "
                        f"'{describe(first)}' is {images.shape[2]}x{images.shape[1]}; set data.image_size "
                        f"(e.g. --set data.image_size={images.shape[1]}) and data.resize to make them one size")
                images[done] = pixels  # a 1-channel image broadcasts into the three channels
                gray_flags[done] = gray
                sums.append(file_sum)
                done += 1
            bar.update(len(chunk_names))
    finally:
        bar.close()
        if pool:
            pool.shutdown(cancel_futures=True)
    if policy.channels is None and gray_flags.all():
        images = np.ascontiguousarray(images[..., :1])
    return images, sums
