"""The GAN stages: pretrain on the majority, transfer to each minority class, synthesize images,
and score the generators on features of the suite's own classifier."""

import functools
import json
import math
import time

import numpy as np
import torch
from torchvision.utils import save_image

from .. import atomic
from ..data.augment import augment_to
from ..classify import CLASSIFIERS, extract_features, predict_labels, resolve_device, train_classifier
from ..classify.saved import load_classifier as load_saved_classifier, save_classifier
from ..config import generator_seed_of, pretrain_seed_of
from ..errors import SmateError
from ..gan import build_gan, quality, sample, train_gan
from ..gan.guide import ClassifierGuide
from ..rebalance import REBALANCERS
from ..report.layout import (feature_net_path, generator_dir, guide_net_path, last_grid, quality_path, synthetic_path,
                             training_dir)
from .stage_registry import remake
from .stages import load_imbalanced, load_prepared, load_synthetic


def pretrain_gan(config, out, generator_seed, progress=True, time_budget=None, on_epoch=None):
    """Train the generator the pretrained methods transfer from, on the majority classes (for at most about
    `time_budget` seconds, where a study gives recipes the same time)."""
    gan = config["gan"]
    dataset, images, labels, minority_ids = load_imbalanced(out, config, generator_seed)
    majority = images[~np.isin(labels, minority_ids)]
    start = time.perf_counter()
    label = f"pretrain_gan seed {generator_seed}"
    _, history = train_gan(majority, gan["train"], gan["pretrain"]["epochs"], training_dir(out, "pretrained", generator_seed),
                           seed=generator_seed, device=resolve_device(gan["device"]), diffaugment=gan["pretrain"]["diffaugment"],
                           progress=progress, label=label, time_budget=time_budget, on_epoch=on_epoch, snapshots=True)
    _report(label, len(majority), history, time.perf_counter() - start)


def transfer_gan(config, out, variant, generator_seed, progress=True, time_budget=None, on_epoch=None):
    """Train `variant`'s generator for each minority class, from the pretrained one of the same seed when
    it uses it; a cGAN's one generator on the whole imbalanced train set."""
    method = _variant(variant)
    gan = config["gan"]
    device = resolve_device(gan["device"])
    dataset, images, labels, minority_ids = load_imbalanced(out, config, generator_seed)
    transfer = gan["transfer"]
    diffaugment = transfer["diffaugment"] or method.diffaugment
    if method.conditional:
        start = time.perf_counter()
        label = f"{variant} all classes, seed {generator_seed}"
        _, history = train_gan(images, gan["train"], gan["conditional"]["epochs"],
                               generator_dir(out, variant, None, generator_seed), seed=generator_seed, device=device,
                               diffaugment=diffaugment, labels=labels, num_classes=len(dataset.classes),
                               progress=progress, label=label, on_epoch=on_epoch)
        _report(f"transfer_gan {label}", len(images), history, time.perf_counter() - start)
        return
    init = _load_pretrained(out, pretrain_seed_of(config, generator_seed), device) if method.pretrained else None
    for class_id in minority_ids:
        members = images[labels == class_id]
        passes = 1
        name = dataset.classes[class_id]
        folder = generator_dir(out, variant, name, generator_seed)
        if method.augmented:
            originals = len(members)
            members = augment_to(members, transfer["augment_to"], seed=generator_seed * 1000 + class_id, device=device,
                                 fill=transfer["fill"])
            with atomic.atomic_path(folder / "augmented.npy") as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, members[originals:originals + 64])  # for the report's figure
        else:
            # As many optimizer steps an epoch as the augmented variants make, so only the data differs.
            passes = max(1, round(steps_per_epoch(transfer["augment_to"], gan["train"]["batch_size"])
                                  / steps_per_epoch(len(members), gan["train"]["batch_size"])))
        start = time.perf_counter()
        label = f"{variant} {name}, seed {generator_seed}"
        _, history = train_gan(
            members, gan["train"], transfer["epochs"], folder, seed=generator_seed, device=device, passes=passes,
            init=init, freeze=transfer["freeze"] if init is not None else 0,
            freeze_d=transfer["freeze_d"] if init is not None else 0, lecam=transfer["lecam"],
            diffaugment=diffaugment,
            guide=_guide(out, generator_seed, class_id, transfer["guide_weight"], device) if method.guided else None,
            progress=progress, label=label, time_budget=time_budget,
            on_epoch=on_epoch and functools.partial(on_epoch, prefix=f"{name}/"),
        )
        _report(f"transfer_gan {label}", len(members), history, time.perf_counter() - start)


def steps_per_epoch(n_images, batch_size):
    """The GAN steps of one pass over `n_images` (a batch is never larger than the images)."""
    return math.ceil(n_images / min(batch_size, n_images))


def training_steps(record, batch_size):
    """The optimizer steps of a training from its history.json record (each epoch `passes` passes, 1 if unnamed)."""
    return len(record["history"]) * steps_per_epoch(record["n_images"], batch_size) * record.get("passes", 1)


def _guide(out, generator_seed, class_id, weight, device):
    path = guide_net_path(out, generator_seed)
    if not path.is_file():
        raise SmateError(f"'{path}' is missing; make it with `{remake('guide_net', generator_seed=generator_seed)}`")
    saved, model = load_classifier(path, device)
    return ClassifierGuide(model.to(memory_format=torch.channels_last), saved["normalization"], class_id, weight)


def synthesize(config, out, variant, generator_seed):
    """For each run seed that draws from the generators of `generator_seed`, as many images of each
    minority class as balancing the imbalanced train set needs, from noise seeded by the run seed:
    each seed's run adds its own draw."""
    method = _variant(variant)
    gan = config["gan"]
    device = resolve_device(gan["device"])
    dataset, images, labels, minority_ids = load_imbalanced(out, config, generator_seed)
    counts = np.bincount(labels, minlength=len(dataset.classes))
    run_seeds = [seed for seed in config["seeds"] if generator_seed_of(config, seed) == generator_seed]
    made, made_labels, made_seeds = [], [], []
    for class_id in minority_ids:
        path = generator_dir(out, variant, dataset.classes[class_id], generator_seed) / "generator.pt"
        if not path.is_file():
            fix = remake("transfer_gan", variant=variant, generator_seed=generator_seed)
            raise SmateError(f"'{path}' is missing; make it with `{fix}`")
        generator, _ = build_gan(gan["train"], images.shape[-1], images.shape[1:3],
                                 len(dataset.classes) if method.conditional else None)
        generator.load_state_dict(torch.load(path, map_location=device, weights_only=True))
        needed = int(counts.max() - counts[class_id])
        drawn_class = class_id if method.conditional else None
        for seed in run_seeds:
            made.append(sample(generator.to(device), needed, seed=synthesis_seed(seed, class_id), device=device,
                               label=drawn_class))
            made_labels.append(np.full(needed, class_id, dtype=np.int64))
            made_seeds.append(np.full(needed, seed, dtype=np.int64))
    made, made_labels, made_seeds = np.concatenate(made), np.concatenate(made_labels), np.concatenate(made_seeds)
    path = synthetic_path(out, variant, generator_seed)
    with atomic.atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, images=made, labels=made_labels, seeds=made_seeds)
    with atomic.atomic_path(path.with_suffix(".png")) as tmp:
        save_image(torch.from_numpy(made[:64]).permute(0, 3, 1, 2).float() / 255, tmp, nrow=8, format="png")
    print(f"synthesize {variant}: {len(made)} images from the generators of seed {generator_seed} for seeds {run_seeds}: " + ", ".join(
        f"{dataset.classes[c]} {int((made_labels == c).sum())}" for c in minority_ids))


def synthesis_seed(run_seed, class_id):
    """The noise seed of one run seed's images of one class."""
    return run_seed * 1000 + class_id


def _variant(variant):
    if variant not in REBALANCERS or REBALANCERS[variant].kind != "generator":
        known = [name for name, cls in REBALANCERS.items() if cls.kind == "generator"]
        raise SmateError(f"unknown GAN variant {variant!r}; choose one of: {', '.join(known)}")
    return REBALANCERS[variant]


def _load_pretrained(out, generator_seed, device):
    folder = training_dir(out, "pretrained", generator_seed)
    if not (folder / "generator.pt").is_file():
        fix = remake("pretrain_gan", generator_seed=generator_seed)
        raise SmateError(f"'{folder}/generator.pt' is missing; make it with `{fix}`")
    return {name: torch.load(folder / f"{name}.pt", map_location=device, weights_only=True)
            for name in ("generator", "discriminator")}


def _report(label, n_images, history, seconds):
    last = history[-1] if history else {}
    rate = np.mean([h["images_per_second"] for h in history]) if history else float("nan")
    print(f"{label}: {len(history)} epochs on {n_images} images in {seconds:.1f} s ({rate:,.0f} images/s); "
          f"last epoch D loss {last.get('d_loss', float('nan')):.3f}, G loss {last.get('g_loss', float('nan')):.3f}, "
          f"D fake accuracy {last.get('d_fake_accuracy', float('nan')):.2f}")


def feature_net(config, out, progress=True, on_epoch=None):
    """Train the classifier that scores generators: classify.model on the full, balanced train set, seeded by
    gan.seed (one yardstick for every generator)."""
    dataset = load_prepared(out)
    _train_and_save(config, dataset, dataset.train_images, dataset.train_labels, feature_net_path(out),
                    "feature_net", "the full train set", config["gan"]["seed"], progress, on_epoch)


def guide_net(config, out, generator_seed, progress=True, on_epoch=None):
    """Train SMate+'s guide: classify.model on the imbalanced train set, all a user of the method has."""
    dataset, images, labels, _ = load_imbalanced(out, config, generator_seed)
    _train_and_save(config, dataset, images, labels, guide_net_path(out, generator_seed), f"guide_net seed {generator_seed}",
                    "the imbalanced train set", generator_seed, progress, on_epoch)


def _train_and_save(config, dataset, images, labels, path, label, what, seed, progress, on_epoch):
    """classify.model trained on `images`, saved as plain state with its test accuracy."""
    classify = config["classify"]
    recipe = CLASSIFIERS[classify["model"]](classify[classify["model"]], len(dataset.classes))
    result = train_classifier(recipe, images, labels, dataset.test_images, dataset.test_labels,
                              seed=seed, device=resolve_device(classify["device"]), progress=progress,
                              bf16=classify["bf16"], eval_every=classify["eval_every"], on_epoch=on_epoch)
    accuracy = float((result.predictions == dataset.test_labels).mean())
    save_classifier(path, result, accuracy, classify["model"], classify[classify["model"]], len(dataset.classes),
                    dataset.train_images.shape[1:])
    print(f"{label}: {classify['model']} on {what}, test accuracy {accuracy:.4f}, trained in {result.train_seconds:.1f} s")


def load_classifier(path, device):
    """(the saved record, the model on `device`) of the feature or guide net."""
    return load_saved_classifier(path, device, remake(path.stem.split("-")[0]))


def gan_quality(config, out, variant):
    """Score `variant`'s synthetic images against held-out real ones of each minority class."""
    path = feature_net_path(out)
    if not path.is_file():
        raise SmateError(f"'{path}' is missing; make it with `{remake('feature_net')}`")
    saved, model = load_classifier(path, resolve_device(config["classify"]["device"]))
    drawn_from = {seed: generator_seed_of(config, seed) for seed in config["seeds"]}
    # The train images memorization is measured against: those the first seed's generators learnt from.
    dataset, images, labels, minority_ids = load_imbalanced(out, config, drawn_from[config["seeds"][0]])
    by_seed = {seed: load_synthetic(out, variant, g, seed) for seed, g in drawn_from.items()}
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
    # The trainings of the first seed's generators; each run seed's generator seed beside them.
    report["generators"] = _generator_records(out, variant, dataset.classes, minority_ids,
                                              config["gan"]["train"]["batch_size"], drawn_from[first],
                                              pretrain_seed_of(config, drawn_from[first]))
    report["generator_seeds"] = {str(seed): g for seed, g in drawn_from.items()}
    atomic.write_json(quality_path(out, variant), report)
    for name, scores in report["classes"].items():
        print(f"gan_quality {variant} {name}: FD {scores['frechet_distance']:.2f}, KD {scores['kernel_distance']:.4f}, "
              f"precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, "
              f"memorization ratio {scores['memorization']['ratio']:.3f}, classified as {name}: "
              f"{scores['classified_as_class']['synthetic']:.3f} (held-out real: {scores['classified_as_class']['heldout']:.3f})")


PRETRAIN_SCORED = 1000  # held-out majority images (and as many samples) each snapshot of a pretraining is scored on


def pretrain_quality(config, out, generator_seed):
    """The pretraining's quality curve: each snapshot's FD, precision and recall against held-out majority images
    (the feature net's features), beside its minutes of training and its collapse signal."""
    path = feature_net_path(out)
    if not path.is_file():
        raise SmateError(f"'{path}' is missing; make it with `{remake('feature_net')}`")
    device = resolve_device(config["classify"]["device"])
    saved, model = load_classifier(path, device)
    dataset, _, _, minority_ids = load_imbalanced(out, config, generator_seed)
    majority = dataset.test_images[~np.isin(dataset.test_labels, minority_ids)]
    heldout = majority[np.random.default_rng(0).choice(len(majority), min(PRETRAIN_SCORED, len(majority)), replace=False)]
    real = extract_features(model, heldout, saved["normalization"])
    folder = training_dir(out, "pretrained", generator_seed)
    trained = json.loads((folder / "history.json").read_text())
    epochs = trained["history"]
    generator, _ = build_gan(config["gan"]["train"], dataset.train_images.shape[-1], dataset.train_images.shape[1:3])
    curve = []
    for snapshot in sorted((folder / "snapshots").glob("epoch_*.pt")):
        epoch = int(snapshot.stem.split("_")[1])
        generator.load_state_dict(torch.load(snapshot, map_location=device, weights_only=True))
        made = sample(generator.to(device), len(heldout), seed=generator_seed, device=device)
        fake = extract_features(model, made, saved["normalization"])
        precision, recall = quality.precision_recall(real, fake)
        curve.append({"epoch": epoch, "minutes": sum(e["seconds"] for e in epochs[:epoch]) / 60,
                      "frechet_distance": quality.frechet_distance(real, fake), "precision": precision, "recall": recall,
                      "sample_ssim": epochs[epoch - 1]["sample_ssim"]})
    report = {"seed": generator_seed, "n_heldout": len(heldout), "real_ssim": trained["real_ssim"],
              "feature_net": {"classifier": saved["classifier"], "test_accuracy": saved["accuracy"]}, "curve": curve}
    atomic.write_json(folder / "quality.json", report)
    for point in curve:
        print(f"pretrain_quality seed {generator_seed} epoch {point['epoch']} ({point['minutes']:.1f} min): "
              f"FD {point['frechet_distance']:.1f}, precision {point['precision']:.3f}, recall {point['recall']:.3f}")


def _share_classified_as(model, images, normalization, class_id):
    """The share of `images` the feature net calls `class_id`: whether a generator draws what a
    classifier trained on real data recognises, with the held-out real images as the yardstick."""
    return float((predict_labels(model, images, normalization) == class_id).sum()) / max(1, len(images))


def _generator_records(out, variant, classes, minority_ids, batch_size, generator_seed, pretrain_seed):
    """Per generator a GAN method's images come from: images, epochs, optimizer steps and frozen modules
    of each of its trainings (pretraining first, where it has one) and its last sample grid."""
    trainings = [training_dir(out, "pretrained", pretrain_seed)] if REBALANCERS[variant].pretrained else []
    records = {}
    for class_id in minority_ids:
        folder = generator_dir(out, variant, classes[class_id], generator_seed)
        stages_of_class = []
        for path in trainings + [folder]:
            history = json.loads((path / "history.json").read_text())
            grid = last_grid(path)
            stages_of_class.append({
                "label": history["label"], "images": history["n_images"], "epochs": len(history["history"]),
                "steps": training_steps(history, batch_size),
                "freeze": history.get("freeze"),
                "last_grid": grid.relative_to(out).as_posix() if grid else None,
                # The collapse signal at the last epoch, and its real yardstick (trainings before it have neither).
                "sample_ssim": history["history"][-1].get("sample_ssim") if history["history"] else None,
                "real_ssim": history.get("real_ssim"),
            })
        records[classes[class_id]] = stages_of_class
    return records
