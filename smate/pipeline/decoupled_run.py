"""The train stage of a decoupled method: the same seed's base run's network, its backbone frozen, its last
layer re-fitted by the method on the backbone's features of the imbalanced train set, the test set scored
through it as the base run scored it (rebalance/decoupled.py holds the methods)."""

import time

import numpy as np

from ..classify import CLASSIFIERS, extract_features, predict_scores, resolve_device
from ..classify.head import with_head
from ..classify.saved import load_classifier
from ..data import class_counts
from ..errors import SmateError
from ..gan import quality
from ..report.layout import network_path, run_dir
from ..classify.metrics import classification_metrics
from ..precision import resolve_bf16
from .runinfo import environment
from .stages import save_run


def train_decoupled(config, out, rebalancer, dataset, split_info):
    method, seed, base = rebalancer.name, rebalancer.seed, rebalancer.base_method
    classify = config["classify"]
    device = resolve_device(classify["device"])
    saved, model = load_classifier(network_path(run_dir(out, base, seed)), device,
                                   f"smate-bench train --method {base} --seed {seed}")
    if saved["classifier"] != classify["model"]:
        raise SmateError(f"the {base}-{seed} run's network is a {saved['classifier']}, the params say classify.model="
                         f"{classify['model']}; rerun `smate-bench train --method {base} --seed {seed}`")
    minority_ids = split_info["minority_ids"]
    kept = np.asarray(split_info["kept_indices"], dtype=np.int64)
    labels = dataset.train_labels[kept]
    start = time.perf_counter()
    features = extract_features(model, dataset.train_images[kept], saved["normalization"])
    feature_seconds = time.perf_counter() - start
    start = time.perf_counter()
    head = rebalancer.refit(model, features, labels, minority_ids)
    refit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    recipe = CLASSIFIERS[saved["classifier"]](saved["params"], saved["num_classes"], method)
    scores = predict_scores(recipe, with_head(model, head), dataset.test_images, saved["normalization"],
                            bf16=resolve_bf16(classify["bf16"], device), batch_size=classify["eval_batch_size"])
    predictions = scores.argmax(1).astype(np.int64)
    predict_seconds = time.perf_counter() - start
    metrics = classification_metrics(dataset.test_labels, predictions, dataset.classes, minority_ids, scores)
    synthetic = getattr(rebalancer, "synthetic_", None)
    fitted_labels = labels if synthetic is None else np.concatenate([labels, synthetic[1]])
    record = {
        "method": method,
        "seed": seed,
        "base_run": f"{base}-{seed}",
        "classifier": classify["model"],
        **metrics,
        "minority": [dataset.classes[i] for i in minority_ids],
        "train_counts": class_counts(fitted_labels, dataset.classes),
        "class_weight": None,
        "budget": {"kind": "last layer", "epochs": getattr(rebalancer, "epochs", 0), "optimizer_steps": rebalancer.steps_},
        # train: what the run adds to its base run, the backbone's features and the re-fit (rebalance).
        "seconds": {"rebalance": refit_seconds, "train": feature_seconds + refit_seconds, "epoch_eval": 0.0,
                    "predict": predict_seconds},
        "history": [],
        **({"feature_generator": _feature_quality(model, saved, dataset, minority_ids, synthetic)} if synthetic else {}),
        "dataset": dataset.source,
        "params": config.record(),
        "environment": environment(device),
    }
    save_run(out, record, dataset, predictions)
    print(f"train {method}-{seed}: accuracy {metrics['accuracy']:.4f}, minority recall {metrics['minority_recall']:.4f}, "
          f"re-fitted {base}-{seed}'s last layer in {refit_seconds:.1f} s (features {feature_seconds:.1f} s) on {device}")
    return record


def _feature_quality(model, saved, dataset, minority_ids, synthetic):
    """FD and precision/recall of the synthetic features of each minority class against the backbone's features
    of its held-out test images: a feature generator scored as the pixel ones are, in its own space."""
    made, made_labels = synthetic
    scores = {}
    for class_id in minority_ids:
        mine = made[made_labels == class_id]
        if not len(mine):
            continue
        real = extract_features(model, dataset.test_images[dataset.test_labels == class_id], saved["normalization"])
        precision, recall = quality.precision_recall(real, mine)
        scores[dataset.classes[class_id]] = {"frechet_distance": quality.frechet_distance(real, mine),
                                             "precision": precision, "recall": recall, "images": int(len(mine))}
    return scores
