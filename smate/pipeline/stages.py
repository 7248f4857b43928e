"""The pipeline's stages that load data and train classifiers; each is one CLI command and one
stage of smate/stage_registry.py. Where they write: smate/layout.py."""

import functools
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np

from .. import atomic
from ..config import generator_methods, minority_names
from ..data import Dataset, class_counts, load_from_params, make_imbalanced, minority_ids_of
from ..errors import SmateError
from ..report.layout import gan_dir, network_path, prepared_dir, run_dir, synthetic_path
from ..rebalance import REBALANCERS, make_rebalancer
from .stage_registry import DATASET_KEYS, SPLIT_KEYS
from ..report.summary import records_csv, summarize_runs, write_summary

# The methods whose runs save their network, for the decoupled methods that start from it.
DECOUPLED_BASES = {cls.base_method for cls in REBALANCERS.values() if cls.decoupled}


def load_synthetic(out, variant, generator_seed, seed=None):
    """The images a GAN method adds in the run of `seed` (default: the first seed they were drawn for),
    drawn from the generators of `generator_seed`."""
    path = synthetic_path(out, variant, generator_seed)
    if not path.is_file():
        raise SmateError(f"'{path}' is missing; make it with `smate-bench synthesize --variant {variant} "
                         f"--generator-seed {generator_seed}`")
    with np.load(path) as arrays:
        images, labels, seeds = arrays["images"], arrays["labels"], arrays["seeds"]
    seed = int(seeds[0]) if seed is None else seed
    if not (seeds == seed).any():
        raise SmateError(f"'{path}' holds no images for seed {seed} (it has seeds {sorted(set(seeds.tolist()))}); "
                         f"rerun `smate-bench synthesize --variant {variant} --generator-seed {generator_seed}` "
                         "with this seed in `seeds`")
    return images[seeds == seed], labels[seeds == seed]


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


def check_prepared(config, out, with_split=True):
    """Stop with one line unless the prepared dataset (and the split) were made from the current data params."""
    folder = prepared_dir(out)
    info = _read_json(folder / "dataset.json", "smate-bench prepare")
    _check_made_with(info["data"], config["data"], DATASET_KEYS, folder / "dataset.json", "prepare")
    if "arrays_sha256" not in info:  # the content keys need it
        raise SmateError(f"'{folder / 'dataset.json'}' was made by an older smate-bench; rerun `smate-bench prepare`")
    if not with_split:
        return info, None
    # Imported here, as in train(): prepare, split and summarize, each a DVC stage's process, start without
    # torch, torchvision and scikit-learn (4-5 s a process on our CPU).
    from .shape_checks import check_image_shape

    check_image_shape(config, info["image_shape"])
    split_info = _read_json(folder / "split.json", "smate-bench split")
    _check_made_with(split_info["data"], config["data"], SPLIT_KEYS, folder / "split.json", "split")
    if split_info["source_sha256"] != info["source"]["sha256"]:
        raise SmateError(f"{folder}/split.json was made from other data; rerun `smate-bench split`")
    return info, split_info


def load_prepared(out):
    """The prepared dataset (the pipeline checks it against the params before any stage reads it)."""
    folder = prepared_dir(out)
    info = _read_json(folder / "dataset.json", "smate-bench prepare")
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


def split(config, out):
    data = config["data"]
    start = time.perf_counter()
    dataset = load_prepared(out)
    minority_ids = minority_ids_of(dataset.classes, dataset.train_labels, minority_names(config))
    kept = make_imbalanced(dataset.train_labels, minority_ids, data["ratio"], data["seed"], data["profile"],
                           data["imbalance_factor"], dataset.classes)
    counts = class_counts(dataset.train_labels[kept], dataset.classes)
    info = {
        "data": {key: data[key] for key in SPLIT_KEYS},
        "minority_ids": minority_ids,
        "train_counts": counts,
        "n_kept": len(kept),
        "source_sha256": dataset.source["sha256"],
        "seconds": time.perf_counter() - start,
        "kept_indices": kept.tolist(),
    }
    atomic.write_json(prepared_dir(out) / "split.json", info)
    print("split: train counts " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    return info


def load_split(out):
    return _read_json(prepared_dir(out) / "split.json", "smate-bench split")


def train(config, out, method, seed, generator_seed=None, progress=True, on_epoch=None):
    """One classifier run; a generator method's draws from the generators of `generator_seed`."""
    from ..classify import CLASSIFIERS, resolve_device, train_classifier
    from ..classify.saved import save_classifier
    from ..classify.metrics import classification_metrics
    from .runinfo import environment

    dataset = load_prepared(out)
    split_info = load_split(out)
    minority_ids = split_info["minority_ids"]
    rebalancer = make_rebalancer(method, config["rebalance"].get(method), seed)
    if rebalancer.decoupled:
        from .decoupled_run import train_decoupled

        return train_decoupled(config, out, rebalancer, dataset, split_info)
    if rebalancer.needs_synthetic:
        rebalancer.use(*load_synthetic(out, method, generator_seed, seed))
    kept = np.asarray(split_info["kept_indices"], dtype=np.int64)
    if rebalancer.uses_full_train:
        kept = np.arange(len(dataset.train_labels))
    start = time.perf_counter()
    images, labels = rebalancer.fit_resample(dataset.train_images[kept], dataset.train_labels[kept])
    rebalance_seconds = time.perf_counter() - start

    classify = config["classify"]
    model = classify["model"]
    device = resolve_device(classify["device"])
    total_steps = budget_steps(classify, dataset.train_labels[kept], len(dataset.classes))

    # Only the boosting methods say `boosted`: the base class's module is in every method's content key.
    boosted = getattr(rebalancer, "boosted", False)

    def fit(train_images, train_labels, train_seed):
        recipe = CLASSIFIERS[model](classify[model], len(dataset.classes), method)
        # A boosting round's curves under its own seed's name: each round counts its epochs from 1.
        logger = on_epoch and (functools.partial(on_epoch, prefix=f"seed-{train_seed}/") if boosted else on_epoch)
        return train_classifier(
            recipe, train_images, train_labels, dataset.test_images, dataset.test_labels,
            class_weight=rebalancer.class_weight_, objective=rebalancer.objective_, minority_ids=minority_ids,
            seed=train_seed, device=device, eval_batch_size=classify["eval_batch_size"], progress=progress,
            bf16=classify["bf16"], eval_every=classify["eval_every"], total_steps=total_steps, on_epoch=logger,
        )

    if boosted:
        result = rebalancer.boost(fit, images, labels, len(dataset.classes))
    else:
        result = fit(images, labels, seed)
    metrics = classification_metrics(dataset.test_labels, result.predictions, dataset.classes, minority_ids, result.scores)
    record = {
        "method": method,
        "seed": seed,
        **({"generator_seed": generator_seed} if rebalancer.needs_synthetic else {}),
        "classifier": model,
        **metrics,
        "minority": [dataset.classes[i] for i in minority_ids],
        "train_counts": class_counts(labels, dataset.classes),
        "class_weight": None if rebalancer.class_weight_ is None else [float(w) for w in rebalancer.class_weight_],
        "budget": {"kind": classify["budget"], "epochs": result.history[-1]["epoch"], "optimizer_steps": result.history[-1]["step"]},
        "seconds": {
            "rebalance": rebalance_seconds,
            "train": result.train_seconds,
            "epoch_eval": result.epoch_eval_seconds,
            "predict": result.predict_seconds,
        },
        "history": result.history,
        **({"boosting": rebalancer.rounds_} if boosted else {}),
        "dataset": dataset.source,
        "params": config.record(),
        "environment": environment(device),
    }

    def network(path):
        save_classifier(path, result, metrics["accuracy"], model, classify[model], len(dataset.classes),
                        dataset.train_images.shape[1:])

    save_run(out, record, dataset, result.predictions, network if method in DECOUPLED_BASES else None)
    print(f"train {method}-{seed}: accuracy {metrics['accuracy']:.4f}, minority recall {metrics['minority_recall']:.4f}, "
          f"rebalance {rebalance_seconds:.1f} s, train {result.train_seconds:.1f} s on {device}")
    return record


def save_run(out, record, dataset, predictions, network=None):
    """A run's folder, whole or not at all; `network(path)` saves its network there (for the decoupled methods)."""
    with atomic.atomic_dir(run_dir(out, record["method"], record["seed"])) as tmp:
        atomic.write_json(tmp / "metrics.json", record)
        # Flat copies of the history and the predictions, in the shape `dvc plots` reads.
        atomic.write_text(tmp / "history.csv", records_csv(record["history"]))
        atomic.write_text(tmp / "predictions.csv", records_csv(
            {"actual": dataset.classes[a], "predicted": dataset.classes[b]}
            for a, b in zip(dataset.test_labels, predictions)))
        if network:
            network(network_path(tmp))


def budget_steps(classify, imbalanced_labels, num_classes):
    """Under `classify.budget: steps`, every method's optimizer steps: the recipe's epochs over a balanced
    set of the largest class's size, whatever size the method's train set has. None under `epochs`."""
    if classify["budget"] == "epochs":
        return None
    params = classify[classify["model"]]
    balanced = int(np.bincount(imbalanced_labels).max()) * num_classes
    return math.ceil(params["epochs"] * math.ceil(balanced / params["batch_size"]))


def summarize(config, out):
    runs = []
    for method in config["methods"]:
        for seed in config["seeds"]:
            path = run_dir(out, method, seed) / "metrics.json"
            runs.append(_read_json(path, f"smate-bench train --method {method} --seed {seed}"))
    table = summarize_runs(runs, config["methods"])
    reports = [_read_json(gan_dir(out, variant) / "quality.json", f"smate-bench gan-quality --variant {variant}")
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
                             f"{current[key]!r}; rerun `smate-bench {stage}` (or `dvc repro`)")
