"""The stages around the training ones: prepare and split the data (and read them back, checked against the
params), summarize the runs and report them. Each is a CLI command and a stage of stage_registry.py; the train
stage is train.py, the GAN stages gan_stages.py. Where they write: smate/report/layout.py."""

import functools
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from .. import atomic
from ..config import generator_methods, minority_names, split_seed_of, split_seeds
from ..data import Dataset, class_counts, load_from_params, make_imbalanced, minority_ids_of, split_digest
from ..errors import SmateError
from ..report.layout import prepared_dir, quality_path, run_dir, synthetic_path
from ..report.summary import summarize_runs, write_summary
from .stage_registry import DATASET_KEYS, SPLIT_KEYS, remake


def prepare(config, out, progress=True):
    data = config["data"]
    start = time.perf_counter()
    dataset = load_from_params(data, progress)
    seconds = time.perf_counter() - start
    info = {
        "data": {key: data[key] for key in DATASET_KEYS},
        "source": dataset.source,
        "arrays_sha256": arrays_digest(dataset),
        "classes": dataset.classes,
        "image_shape": list(dataset.train_images.shape[1:]),
        "train_counts": class_counts(dataset.train_labels, dataset.classes),
        "test_counts": class_counts(dataset.test_labels, dataset.classes),
        "seconds": seconds,
    }
    folder = prepared_dir(out)
    with atomic.atomic_path(folder / "dataset.npz") as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, train_images=dataset.train_images, train_labels=dataset.train_labels,
                     test_images=dataset.test_images, test_labels=dataset.test_labels)
    atomic.write_json(folder / "dataset.json", info)
    print(f"prepare: {len(dataset.train_labels)} train and {len(dataset.test_labels)} test images, "
          f"{len(dataset.classes)} classes, from {dataset.source['kind']} '{data['root']}' in {seconds:.1f} s")
    return info


def arrays_digest(dataset):
    """sha256 of the decoded train and test images and labels: what every later stage reads of the data,
    whatever source, cut or decoder made them."""
    digest = hashlib.sha256()
    for array in (dataset.train_images, dataset.train_labels, dataset.test_images, dataset.test_labels):
        digest.update(repr((array.dtype.str, array.shape)).encode())
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()


def check_prepared(config, out, with_split=True, seeds=None):
    """Stop with one line unless the prepared dataset (and the split) were made from the current data params and
    the split holds a draw for each split seed in `seeds` (default: every one the plan reads)."""
    folder = prepared_dir(out)
    info = _read_json(folder / "dataset.json", remake("prepare"))
    _check_made_with(info["data"], config["data"], DATASET_KEYS, folder / "dataset.json", "prepare")
    if "arrays_sha256" not in info:  # the content keys need it
        raise SmateError(f"'{folder / 'dataset.json'}' was made by an older smate-bench; rerun `{remake('prepare')}`")
    if not with_split:
        return info, None
    # Imported here, as in train(): prepare, split and summarize, each a DVC stage's process, start without
    # torch, torchvision and scikit-learn (4-5 s a process on our CPU).
    from .shape_checks import check_image_shape

    check_image_shape(config, info["image_shape"])
    split_info = _read_json(folder / "split.json", remake("split"))
    _check_made_with(split_info["data"], config["data"], SPLIT_KEYS, folder / "split.json", "split")
    if split_info["source_sha256"] != info["source"]["sha256"]:
        raise SmateError(f"{folder}/split.json was made from other data; rerun `{remake('split')}`")
    needed = split_seeds(config) if seeds is None else seeds
    missing = [seed for seed in needed if str(seed) not in split_info.get("splits", {})]
    if missing:
        raise SmateError(f"{folder}/split.json holds no split of seed {missing[0]}; rerun `{remake('split')}` "
                         f"(or `dvc repro`) to draw one for every seed")
    return info, split_info


def load_prepared(out):
    """The prepared dataset (the pipeline checks it against the params before any stage reads it)."""
    folder = prepared_dir(out)
    info = _read_json(folder / "dataset.json", remake("prepare"))
    path = (folder / "dataset.npz").resolve()
    stat = path.stat()
    arrays = _read_arrays(path, stat.st_mtime_ns, stat.st_size)
    return Dataset(*arrays, classes=info["classes"], source=info["source"])


@functools.lru_cache(maxsize=1)
def _read_arrays(path, mtime_ns, size):
    """The prepared arrays, read once per process while the file stays the same: `smate-bench run`
    loads them in every stage, about 0.25 s each for CIFAR-10 on our CPU. Callers only read them."""
    with np.load(path) as arrays:
        return tuple(arrays[key] for key in ("train_images", "train_labels", "test_images", "test_labels"))


def load_synthetic(out, variant, generator_seed, seed=None):
    """The images a GAN method adds in the run of `seed` (default: the first seed they were drawn for),
    drawn from the generators of `generator_seed`."""
    path = synthetic_path(out, variant, generator_seed)
    fix = remake("synthesize", variant=variant, generator_seed=generator_seed)
    if not path.is_file():
        raise SmateError(f"'{path}' is missing; make it with `{fix}`")
    with np.load(path) as arrays:
        images, labels, seeds = arrays["images"], arrays["labels"], arrays["seeds"]
    seed = int(seeds[0]) if seed is None else seed
    if not (seeds == seed).any():
        raise SmateError(f"'{path}' holds no images for seed {seed} (it has seeds {sorted(set(seeds.tolist()))}); "
                         f"rerun `{fix}` with this seed in `seeds`")
    return images[seeds == seed], labels[seeds == seed]


def split(config, out):
    """The kept train indices of each split seed the plan reads (smate.config.split_seeds): one draw for every
    run under an integer data.seed, each run seed's own under `run`. The test set is never cut."""
    start = time.perf_counter()
    dataset = load_prepared(out)
    minority_ids, splits = draw_splits(config, dataset)
    info = {
        "data": {key: config["data"][key] for key in SPLIT_KEYS},
        "minority_ids": minority_ids,
        "source_sha256": dataset.source["sha256"],
        "seconds": time.perf_counter() - start,
        "splits": splits,
    }
    atomic.write_json(prepared_dir(out) / "split.json", info)
    for seed, drawn in splits.items():
        print(f"split seed {seed}: train counts " + ", ".join(f"{name} {n}" for name, n in drawn["train_counts"].items()))
    return info


def draw_splits(config, dataset):
    """(the minority class ids, {split seed: its kept train indices, their class counts and digest})."""
    data = config["data"]
    minority_ids = minority_ids_of(dataset.classes, dataset.train_labels, minority_names(config))
    splits = {}
    for seed in split_seeds(config):
        kept = make_imbalanced(dataset.train_labels, minority_ids, data["ratio"], seed, data["profile"],
                               data["imbalance_factor"], dataset.classes)
        splits[str(seed)] = {"train_counts": class_counts(dataset.train_labels[kept], dataset.classes),
                             "n_kept": len(kept), "split_digest": split_digest(kept), "kept_indices": kept.tolist()}
    return minority_ids, splits


def load_split(out, split_seed):
    """The minority ids and the kept train indices (with their counts and digest) of one split seed."""
    info = _read_json(prepared_dir(out) / "split.json", remake("split"))
    drawn = info.get("splits", {}).get(str(split_seed))
    if drawn is None:
        raise SmateError(f"'{prepared_dir(out) / 'split.json'}' holds no split of seed {split_seed}; "
                         f"rerun `{remake('split')}` with this seed in `seeds`")
    return {"minority_ids": info["minority_ids"], **drawn}


def load_imbalanced(out, config, seed):
    """(the prepared dataset, the imbalanced train set's images and labels, the minority ids) of the run or
    generator of `seed`, which reads its split seed's kept images: what the GAN stages and the train stage start from."""
    dataset = load_prepared(out)
    split_info = load_split(out, split_seed_of(config, seed))
    kept = np.asarray(split_info["kept_indices"], dtype=np.int64)
    return dataset, dataset.train_images[kept], dataset.train_labels[kept], split_info["minority_ids"]


def summarize(config, out):
    runs = []
    for method in config["methods"]:
        for seed in config["seeds"]:
            path = run_dir(out, method, seed) / "metrics.json"
            runs.append(_read_json(path, remake("train", method=method, seed=seed)))
    table = summarize_runs(runs, config["methods"])
    reports = [_read_json(quality_path(out, variant), remake("gan_quality", variant=variant))
               for variant in generator_methods(config)]
    write_summary(table, runs, out, reports)
    return table


def report(config, out, reference, reproduction=None):
    """The report of this folder's runs in OUT/report/, with `reference`'s numbers of the paper."""
    from ..report import build_report

    return build_report([out], reference, Path(out) / "report", reproduction)


def _read_json(path, fix):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SmateError(f"'{path}' is missing; make it with `{fix}`") from None
    except json.JSONDecodeError:
        raise SmateError(f"'{path}' is not valid JSON (a run killed mid-write?); remake it with `{fix}`") from None


def _check_made_with(recorded, current, keys, path, stage):
    for key in keys:
        if recorded.get(key) != current[key]:
            raise SmateError(f"'{path}' was made with data.{key}={recorded.get(key)!r} but the params say "
                             f"{current[key]!r}; rerun `{remake(stage)}` (or `dvc repro`)")
