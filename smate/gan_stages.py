"""The GAN stages: pretrain on the majority, transfer to each minority class, synthesize images,
and score the generators on features of the suite's own classifier."""

import json
import math
import pickle
import time

import numpy as np
import torch
from torchvision.utils import save_image

from . import atomic
from .augment import augment_to
from .classify import CLASSIFIERS, extract_features, resolve_device, train_classifier
from .classify._trainer import to_device
from .config import generator_methods
from .errors import SmateError
from .gan import build_gan, quality, sample, train_gan
from .gan.guide import ClassifierGuide
from .rebalance import REBALANCERS
from .stages import (feature_net_path, gan_dir, generator_dir, guide_net_path, load_prepared, load_split,
                     load_synthetic, synthetic_path)


def _imbalanced_train(config, out):
    dataset = load_prepared(config, out)
    split = load_split(config, out)
    kept = np.asarray(split["kept_indices"], dtype=np.int64)
    return dataset, dataset.train_images[kept], dataset.train_labels[kept], split["minority_ids"]


def pretrain_gan(config, out, progress=True):
    gan = config["gan"]
    if not any(REBALANCERS[variant].pretrained for variant in generator_methods(config)):
        # DVC runs every stage it defines; with no method that needs pretraining, say so instead.
        atomic.write_json(gan_dir(out, "pretrained") / "skipped.json", {"reason": "no method uses a pretrained generator"})
        print("pretrain_gan: skipped, no method in methods uses a pretrained generator")
        return
    dataset, images, labels, minority_ids = _imbalanced_train(config, out)
    majority = images[~np.isin(labels, minority_ids)]
    start = time.perf_counter()
    _, history = train_gan(majority, gan["train"], gan["pretrain"]["epochs"], gan_dir(out, "pretrained"),
                           seed=gan["seed"], device=resolve_device(gan["device"]), progress=progress, label="pretrain_gan")
    _report("pretrain_gan", len(majority), history, time.perf_counter() - start)


def transfer_gan(config, out, variant, progress=True):
    """Train `variant`'s generator for each minority class, from the pretrained one when it uses it;
    a cGAN's one generator on the whole imbalanced train set."""
    method = _variant(variant)
    gan = config["gan"]
    device = resolve_device(gan["device"])
    dataset, images, labels, minority_ids = _imbalanced_train(config, out)
    transfer = gan["transfer"]
    diffaugment = transfer["diffaugment"] or method.diffaugment
    if method.conditional:
        start = time.perf_counter()
        _, history = train_gan(images, gan["train"], gan["conditional"]["epochs"], generator_dir(out, variant, None),
                               seed=gan["seed"], device=device, diffaugment=diffaugment, labels=labels,
                               num_classes=len(dataset.classes), progress=progress, label=f"{variant} all classes")
        _report(f"transfer_gan {variant} all classes", len(images), history, time.perf_counter() - start)
        return
    init = _load_pretrained(out, device) if method.pretrained else None
    for class_id in minority_ids:
        members = images[labels == class_id]
        params, epochs = gan["train"], transfer["epochs"]
        name = dataset.classes[class_id]
        folder = generator_dir(out, variant, name)
        if method.augmented:
            originals = len(members)
            members = augment_to(members, transfer["augment_to"], seed=gan["seed"] * 1000 + class_id, device=device)
            with atomic.atomic_path(folder / "augmented.npy") as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, members[originals:originals + 64])  # for the report's figure
        else:
            # As many images seen as the augmented variants, so only the data differs; grids and checkpoints keep pace.
            factor = max(1, round(transfer["augment_to"] / len(members)))
            epochs *= factor
            params = {**params, "sample_every": params["sample_every"] * factor,
                      "checkpoint_every": params["checkpoint_every"] * factor}
        start = time.perf_counter()
        _, history = train_gan(
            members, params, epochs, folder, seed=gan["seed"], device=device,
            init=init, freeze=transfer["freeze"] if init is not None else 0,
            diffaugment=diffaugment,
            guide=_guide(out, class_id, transfer["guide_weight"], device) if method.guided else None,
            progress=progress, label=f"{variant} {name}",
        )
        _report(f"transfer_gan {variant} {name}", len(members), history, time.perf_counter() - start)


def _guide(out, class_id, weight, device):
    path = guide_net_path(out)
    if not path.is_file() or path.read_bytes().startswith(b"skipped"):
        raise SmateError(f"'{path}' is missing; make it with `smate-bench guide-net`")
    saved, model = load_classifier(path, device)
    return ClassifierGuide(model.to(memory_format=torch.channels_last), saved["normalization"], class_id, weight)


def synthesize(config, out, variant):
    """For each run seed, as many images of each minority class as balancing the imbalanced train
    set needs, from noise seeded by the run seed: each seed's run adds its own draw."""
    method = _variant(variant)
    gan = config["gan"]
    device = resolve_device(gan["device"])
    dataset, images, labels, minority_ids = _imbalanced_train(config, out)
    counts = np.bincount(labels, minlength=len(dataset.classes))
    made, made_labels, made_seeds = [], [], []
    for class_id in minority_ids:
        path = generator_dir(out, variant, dataset.classes[class_id]) / "generator.pt"
        if not path.is_file():
            raise SmateError(f"'{path}' is missing; make it with `smate-bench transfer-gan --variant {variant}`")
        generator, _ = build_gan(gan["train"], images.shape[-1], images.shape[1],
                                 len(dataset.classes) if method.conditional else None)
        generator.load_state_dict(torch.load(path, map_location=device, weights_only=True))
        needed = int(counts.max() - counts[class_id])
        drawn_class = class_id if method.conditional else None
        for seed in config["seeds"]:
            made.append(sample(generator.to(device), needed, seed=synthesis_seed(seed, class_id), device=device,
                               label=drawn_class))
            made_labels.append(np.full(needed, class_id, dtype=np.int64))
            made_seeds.append(np.full(needed, seed, dtype=np.int64))
    made, made_labels, made_seeds = np.concatenate(made), np.concatenate(made_labels), np.concatenate(made_seeds)
    with atomic.atomic_path(synthetic_path(out, variant)) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, images=made, labels=made_labels, seeds=made_seeds)
    with atomic.atomic_path(synthetic_path(out, variant).with_suffix(".png")) as tmp:
        save_image(torch.from_numpy(made[:64]).permute(0, 3, 1, 2).float() / 255, tmp, nrow=8, format="png")
    print(f"synthesize {variant}: {len(made)} images for seeds {config['seeds']}: " + ", ".join(
        f"{dataset.classes[c]} {int((made_labels == c).sum())}" for c in minority_ids))


def synthesis_seed(run_seed, class_id):
    """The noise seed of one run seed's images of one class."""
    return run_seed * 1000 + class_id


def _variant(variant):
    if variant not in REBALANCERS or not REBALANCERS[variant].needs_synthetic:
        known = [name for name, cls in REBALANCERS.items() if cls.needs_synthetic]
        raise SmateError(f"unknown GAN variant {variant!r}; choose one of: {', '.join(known)}")
    return REBALANCERS[variant]


def _load_pretrained(out, device):
    folder = gan_dir(out, "pretrained")
    if not (folder / "generator.pt").is_file():
        raise SmateError(f"'{folder}/generator.pt' is missing; make it with `smate-bench pretrain-gan`")
    return {name: torch.load(folder / f"{name}.pt", map_location=device, weights_only=True)
            for name in ("generator", "discriminator")}


def _report(label, n_images, history, seconds):
    last = history[-1] if history else {}
    rate = np.mean([h["images_per_second"] for h in history]) if history else float("nan")
    print(f"{label}: {len(history)} epochs on {n_images} images in {seconds:.1f} s ({rate:,.0f} images/s); "
          f"last epoch D loss {last.get('d_loss', float('nan')):.3f}, G loss {last.get('g_loss', float('nan')):.3f}, "
          f"D fake accuracy {last.get('d_fake_accuracy', float('nan')):.2f}")


def feature_net(config, out, progress=True):
    """Train the classifier that scores generators: classify.model on the full, balanced train set."""
    if not generator_methods(config):
        atomic.write_text(feature_net_path(out), "skipped: no method in methods trains a generator\n")
        print("feature_net: skipped, no method in methods trains a generator")
        return
    dataset = load_prepared(config, out)
    _train_and_save(config, dataset, dataset.train_images, dataset.train_labels, feature_net_path(out),
                    "feature_net", "the full train set", progress)


def guide_net(config, out, progress=True):
    """Train SMate+'s guide: classify.model on the imbalanced train set, all a user of the method has."""
    if not any(REBALANCERS[variant].guided for variant in generator_methods(config)):
        atomic.write_text(guide_net_path(out), "skipped: no method in methods is guided by a classifier\n")
        print("guide_net: skipped, no method in methods is guided by a classifier")
        return
    dataset, images, labels, _ = _imbalanced_train(config, out)
    _train_and_save(config, dataset, images, labels, guide_net_path(out), "guide_net", "the imbalanced train set", progress)


def _train_and_save(config, dataset, images, labels, path, label, what, progress):
    """classify.model trained on `images`, saved as plain state with its test accuracy."""
    classify = config["classify"]
    recipe = CLASSIFIERS[classify["model"]](classify[classify["model"]], len(dataset.classes))
    result = train_classifier(recipe, images, labels, dataset.test_images, dataset.test_labels,
                              seed=config["gan"]["seed"], device=resolve_device(classify["device"]), progress=progress,
                              bf16=classify["bf16"], eval_every=classify["eval_every"])
    accuracy = float((result.predictions == dataset.test_labels).mean())
    with atomic.atomic_path(path) as tmp:
        torch.save({"state": result.model.cpu().state_dict(), "normalization": [t.cpu() for t in result.normalization],
                    "accuracy": accuracy, "classifier": classify["model"], "params": classify[classify["model"]],
                    "num_classes": len(dataset.classes), "image_shape": list(dataset.train_images.shape[1:])}, tmp)
    print(f"{label}: {classify['model']} on {what}, test accuracy {accuracy:.4f}, trained in {result.train_seconds:.1f} s")


def load_classifier(path, device):
    """(the saved record, the model on `device`) of the feature or guide net, rebuilt from plain state:
    nothing is unpickled."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise SmateError(f"'{path}' holds pickled objects, not plain tensors, and is refused; "
                         f"remake it with `smate-bench {path.stem.replace('_', '-')}`") from None
    height, width, channels = saved["image_shape"]
    recipe = CLASSIFIERS[saved["classifier"]](saved["params"], saved["num_classes"])
    model = recipe.build(torch.zeros(1, channels, height, width))
    model.load_state_dict(saved["state"])
    return saved, model.to(device).eval()


def gan_quality(config, out, variant):
    """Score `variant`'s synthetic images against held-out real ones of each minority class."""
    path = feature_net_path(out)
    if not path.is_file():
        raise SmateError(f"'{path}' is missing; make it with `smate-bench feature-net`")
    saved, model = load_classifier(path, resolve_device(config["classify"]["device"]))
    dataset, images, labels, minority_ids = _imbalanced_train(config, out)
    by_seed = {seed: load_synthetic(out, variant, seed) for seed in config["seeds"]}
    first = config["seeds"][0]
    synthetic, synthetic_labels = by_seed[first]  # every score but the FD by seed is of the first seed's draw
    report = {"variant": variant, "feature_net": {"classifier": saved["classifier"], "test_accuracy": saved["accuracy"]},
              "note": "features of this suite's classifier, not Inception: not comparable with published FID/KID",
              "classes": {}}
    for class_id in minority_ids:
        made = synthetic[synthetic_labels == class_id]
        heldout = dataset.test_images[dataset.test_labels == class_id]
        real_features = extract_features(model, heldout, saved["normalization"])
        # Each run seed's own draw, for paired comparisons of generators (conditional on each generator).
        seed_features = {seed: extract_features(model, drawn[drawn_labels == class_id], saved["normalization"])
                         for seed, (drawn, drawn_labels) in by_seed.items()}
        fake_features = seed_features[first]
        distances = {str(seed): quality.frechet_distance(real_features, features) for seed, features in seed_features.items()}
        precision, recall = quality.precision_recall(real_features, fake_features)
        recognised = {"synthetic": _share_classified_as(model, made, saved["normalization"], class_id),
                      "heldout": _share_classified_as(model, heldout, saved["normalization"], class_id)}
        kid_mean, kid_std = quality.kernel_distance(real_features, fake_features)
        report["classes"][dataset.classes[class_id]] = {
            "n_synthetic": len(made), "n_heldout": len(heldout),
            "frechet_distance": distances[str(first)],
            "frechet_distance_by_seed": distances,
            "kernel_distance": kid_mean, "kernel_distance_std": kid_std,
            "precision": precision, "recall": recall,
            "memorization": quality.memorization(made, images[labels == class_id], heldout),
            "classified_as_class": recognised,
        }
    report["generators"] = _generator_records(out, variant, dataset.classes, minority_ids, config["gan"]["train"]["batch_size"])
    atomic.write_json(gan_dir(out, variant) / "quality.json", report)
    for name, scores in report["classes"].items():
        print(f"gan_quality {variant} {name}: FD {scores['frechet_distance']:.2f}, KD {scores['kernel_distance']:.4f}, "
              f"precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, "
              f"memorization ratio {scores['memorization']['ratio']:.3f}, classified as {name}: "
              f"{scores['classified_as_class']['synthetic']:.3f} (held-out real: {scores['classified_as_class']['heldout']:.3f})")


@torch.no_grad()
def _share_classified_as(model, images, normalization, class_id, batch_size=2000):
    """The share of `images` the feature net calls `class_id`: whether a generator draws what a
    classifier trained on real data recognises, with the held-out real images as the yardstick."""
    device = next(model.parameters()).device
    mean, std = (t.to(device) for t in normalization)
    model.eval()
    x = to_device(images, mean, std, device, torch.float32)
    hits = sum(int((model(batch).argmax(1) == class_id).sum()) for batch in x.split(batch_size))
    return hits / max(1, len(images))


def _generator_records(out, variant, classes, minority_ids, batch_size):
    """Per generator a GAN method's images come from: images, epochs and optimizer steps of each of
    its trainings (pretraining first, where it has one) and its last sample grid."""
    trainings = [gan_dir(out, "pretrained")] if REBALANCERS[variant].pretrained else []
    records = {}
    for class_id in minority_ids:
        folder = generator_dir(out, variant, classes[class_id])
        stages_of_class = []
        for path in trainings + [folder]:
            history = json.loads((path / "history.json").read_text())
            grids = sorted((path / "samples").glob("epoch_*.png"))
            stages_of_class.append({
                "label": history["label"], "images": history["n_images"], "epochs": len(history["history"]),
                "steps": len(history["history"]) * math.ceil(history["n_images"] / min(batch_size, history["n_images"])),
                "last_grid": grids[-1].relative_to(out).as_posix() if grids else None,
            })
        records[classes[class_id]] = stages_of_class
    return records
