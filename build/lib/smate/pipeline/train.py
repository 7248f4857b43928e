"""The train stage: one method and seed, its run's record and folder. The method's family brings its training
step (Rebalancer.train: rebalance and train a classifier, boost, draw from its generators, or re-fit the last
layer of a base run's network); this stage gives it a TrainTask and writes what it gives back."""

import functools
import math
from pathlib import Path

import numpy as np

from .. import atomic
from ..config import split_seed_of
from ..errors import SmateError
from ..rebalance import REBALANCERS, make_rebalancer
from ..report.layout import network_path, run_dir
from ..report.summary import records_csv
from .stage_registry import remake
from .stages import load_imbalanced, load_split, load_synthetic

# The methods whose runs save their network, for the decoupled methods that start from it.
DECOUPLED_BASES = {cls.base_method for cls in REBALANCERS.values() if cls.kind == "decoupled"}


class TrainTask:
    """What a method's training step reads: the imbalanced and the whole train set, the test set, and the ways to
    train a classifier, draw its generators' images or load its base run's network (smate/rebalance/_base.py)."""

    def __init__(self, config, out, method, seed, generator_seed, progress, on_epoch):
        from ..classify import resolve_device

        self.config, self.out, self.method, self.seed, self.generator_seed = config, Path(out), method, seed, generator_seed
        self.progress, self.on_epoch = progress, on_epoch
        self.dataset, self.images, self.labels, self.minority_ids = load_imbalanced(out, config, seed)
        self.full_images, self.full_labels = self.dataset.train_images, self.dataset.train_labels
        self.test_images, self.test_labels = self.dataset.test_images, self.dataset.test_labels
        self.classes, self.num_classes = self.dataset.classes, len(self.dataset.classes)
        classify = config["classify"]
        self.model, self.budget_kind = classify["model"], classify["budget"]
        self.bf16, self.eval_batch_size = classify["bf16"], classify["eval_batch_size"]
        self.device = resolve_device(classify["device"])

    def budget_steps(self, labels):
        """Under `classify.budget: steps`, every method's optimizer steps: the recipe's epochs over a balanced set of
        the largest class's size in `labels` (the set it rebalances), whatever size its train set has. None under epochs."""
        if self.budget_kind == "epochs":
            return None
        params = self.config["classify"][self.model]
        balanced = int(np.bincount(labels).max()) * self.num_classes
        return math.ceil(params["epochs"] * math.ceil(balanced / params["batch_size"]))

    def fit(self, images, labels, seed, class_weight=None, objective=None, log_prefix="", total_steps=None):
        """One classifier of the params' recipe trained on `images`, scored on the test set (a TrainResult)."""
        from ..classify import CLASSIFIERS, train_classifier

        classify = self.config["classify"]
        recipe = CLASSIFIERS[self.model](classify[self.model], self.num_classes, self.method)
        logger = self.on_epoch and (functools.partial(self.on_epoch, prefix=log_prefix) if log_prefix else self.on_epoch)
        return train_classifier(
            recipe, images, labels, self.test_images, self.test_labels, class_weight=class_weight, objective=objective,
            minority_ids=self.minority_ids, seed=seed, device=self.device, eval_batch_size=self.eval_batch_size,
            progress=self.progress, bf16=self.bf16, eval_every=classify["eval_every"], total_steps=total_steps,
            on_epoch=logger,
        )

    def synthetic(self):
        """The images the method's generators drew for this seed."""
        return load_synthetic(self.out, self.method, self.generator_seed, self.seed)

    def base_network(self, base):
        """(its saved record, the network) of `base`'s run of this seed."""
        from ..classify.saved import load_classifier

        fix = remake("train", method=base, seed=self.seed)
        saved, model = load_classifier(network_path(run_dir(self.out, base, self.seed)), self.device, fix)
        if saved["classifier"] != self.model:
            raise SmateError(f"the {base}-{self.seed} run's network is a {saved['classifier']}, the params say "
                             f"classify.model={self.model}; rerun `{fix}`")
        return saved, model


def train(config, out, method, seed, generator_seed=None, progress=True, on_epoch=None):
    """One run: the method's training step, scored, recorded in OUT/runs/METHOD-SEED/."""
    from ..classify.metrics import classification_metrics
    from ..data import class_counts
    from .runinfo import environment

    task = TrainTask(config, out, method, seed, generator_seed, progress, on_epoch)
    rebalancer = make_rebalancer(method, config["rebalance"].get(method), seed)
    trained = rebalancer.train(task)
    dataset = task.dataset
    metrics = classification_metrics(dataset.test_labels, trained.predictions, dataset.classes, task.minority_ids,
                                      trained.scores)
    record = {
        "method": method,
        "seed": seed,
        **trained.identity,
        "classifier": task.model,
        **metrics,
        "minority": [dataset.classes[i] for i in task.minority_ids],
        # Which kept images the seed drew: every method of one seed shares them, so the seeds stay paired.
        "split_digest": load_split(out, split_seed_of(config, seed))["split_digest"],
        "train_counts": class_counts(trained.train_labels, dataset.classes),
        "class_weight": None if rebalancer.class_weight_ is None else [float(w) for w in rebalancer.class_weight_],
        "budget": trained.budget,
        "seconds": trained.seconds,
        "history": trained.history,
        **trained.extra,
        "dataset": dataset.source,
        "params": config.record(),
        "environment": environment(task.device),
    }

    def network(path):
        from ..classify.saved import save_classifier

        save_classifier(path, trained.network, metrics["accuracy"], task.model, config["classify"][task.model],
                        task.num_classes, dataset.train_images.shape[1:])

    keep_network = method in DECOUPLED_BASES and trained.network is not None
    save_run(out, record, dataset, trained.predictions, network if keep_network else None)
    print(f"train {method}-{seed}: accuracy {metrics['accuracy']:.4f}, minority recall {metrics['minority_recall']:.4f}, "
          f"{trained.summary} on {task.device}")
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
