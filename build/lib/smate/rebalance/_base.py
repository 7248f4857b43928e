"""The Rebalancer interface, its declared contract and its registry."""

import inspect
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SmateError
from ..registry import Registry

# Every method, each registered by its own module in this package (all of them imported on the first read).
REBALANCERS = Registry("method", package="smate.rebalance")
register = REBALANCERS.register

# What a method does to the train set: reference, weight, loss, boost leave it as given; under draws every class
# down to the smallest; over, synthetic, generator top every class up to the largest (repeats, pixel
# interpolations, GAN images); decoupled works on the imbalanced run's network (rebalance/decoupled.py).
KINDS = ("reference", "under", "over", "synthetic", "weight", "loss", "generator", "boost", "decoupled")
# The class counts a method trains on, by kind where its class says none (Rebalancer.counts): "smallest" (every
# class down to it), "largest" (every class up to it), "whole" (the train set before the cut), else "as given".
COUNTS_OF_KIND = {"under": "smallest", "over": "largest", "synthetic": "largest", "generator": "largest"}
# The families the figures colour methods by, each a group of KINDS; a name outside the registry is "other".
FAMILIES = {"reference": ("reference",), "sampling": ("under", "over", "synthetic"), "weighting and losses": ("weight", "loss"),
            "generators": ("generator",), "decoupled": ("decoupled",), "boosting": ("boost",)}


@dataclass(frozen=True)
class Interval:
    """A numeric parameter's type and range, as imbalanced-learn declares its parameters' constraints;
    ours, since scikit-learn's Interval is private API."""

    type: type
    low: float = -math.inf
    high: float = math.inf
    closed: str = "both"  # the ends that belong to it: both, left, right or neither

    def admits(self, value):
        if isinstance(value, bool) or not isinstance(value, int if self.type is int else (int, float)):
            return False
        above = value >= self.low if self.closed in ("both", "left") else value > self.low
        below = value <= self.high if self.closed in ("both", "right") else value < self.high
        return above and below

    def __str__(self):
        kind = "an integer" if self.type is int else "a number"
        if self.high == math.inf:
            return kind if self.low == -math.inf else f"{kind} {'>=' if self.closed in ('both', 'left') else '>'} {self.low:g}"
        left, right = "[" if self.closed in ("both", "left") else "(", "]" if self.closed in ("both", "right") else ")"
        return f"{kind} in {left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class OneOf:
    """A parameter that names one of a few options."""

    options: tuple

    def admits(self, value):
        return value in self.options

    def __str__(self):
        return "one of " + ", ".join(self.options)


@dataclass
class Trained:
    """What a method's training step gives the train stage for its run's record (smate/pipeline/train.py)."""

    predictions: np.ndarray  # the test set's predicted labels
    scores: np.ndarray  # the test set's class scores (N, C), or None
    train_labels: np.ndarray  # the labels of what it trained on, for the record's train_counts
    history: list  # one dict per epoch
    budget: dict  # kind, epochs, optimizer_steps
    seconds: dict  # rebalance, train, epoch_eval, predict
    summary: str  # what its line in the log says of the time it took
    network: object = None  # the classifier's TrainResult, whose network a decoupled method may start from
    identity: dict = field(default_factory=dict)  # what else names the run (its generators' seed, its base run)
    extra: dict = field(default_factory=dict)  # what its family adds to the record (boosting rounds, feature scores)

    @classmethod
    def of_classifier(cls, result, labels, rebalance_seconds, budget_kind, **record):
        """A run that trained one classifier (or several, boosted) on the rebalanced `labels`."""
        seconds = {"rebalance": rebalance_seconds, "train": result.train_seconds, "epoch_eval": result.epoch_eval_seconds,
                   "predict": result.predict_seconds}
        budget = {"kind": budget_kind, "epochs": result.history[-1]["epoch"], "optimizer_steps": result.history[-1]["step"]}
        return cls(result.predictions, result.scores, labels, result.history, budget, seconds,
                   f"rebalance {rebalance_seconds:.1f} s, train {result.train_seconds:.1f} s", result, **record)


class Rebalancer:
    """Turns an imbalanced train set into a training set, like imbalanced-learn's samplers, and trains on it.

    `fit_resample(X, y)` takes uint8 images (N, H, W, C) and int labels and returns the images
    and labels to train on. After it, `class_weight_` holds per-class loss weights or None, and
    `objective_` a losses.Objective for the methods that change the loss or the logits, or None.

    `train(task)` is the method's training step, which each family brings: here the sampling, weighting and
    loss methods' (rebalance the train set, train one classifier on it). `task` is the train stage's
    (smate/pipeline/train.py): the imbalanced train set (`images`, `labels`) and the whole one (`full_images`,
    `full_labels`), `budget_steps(labels)`, `fit(images, labels, seed, class_weight, objective, log_prefix,
    total_steps)` that trains one classifier, and what the other families read (`synthetic()`,
    `base_network(method)`, the test set).
    """

    name = "base"
    kind = None  # one of KINDS
    # Whether its output changes with the seed (a random draw, beyond the classifier's own).
    random = False
    # Whether it balances the counts exactly; ADASYN allots its images by neighbourhood difficulty.
    exact = True
    # {parameter: Interval}: what make_rebalancer checks each of its parameters against.
    constraints = {}
    # The class counts it trains on where its kind does not say them (COUNTS_OF_KIND); the tests read trained_counts().
    counts = None
    # The package modules its runs read beyond its classes' own ("smate/..."): they enter its runs' content keys.
    code = ()

    def __init__(self, seed=0):
        self.seed = seed
        self.class_weight_ = None
        self.objective_ = None

    def fit_resample(self, X, y):
        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim != 4 or X.dtype != np.uint8 or len(X) != len(y):
            raise ValueError(f"expected uint8 images (N, H, W, C) and N labels, got {X.dtype} {X.shape} and {y.shape}")
        return self._fit_resample(X, y)

    def _fit_resample(self, X, y):
        raise NotImplementedError

    @classmethod
    def trained_counts(cls):
        """The class counts of what it trains on: "smallest", "largest", "whole" or "as given"."""
        return cls.counts or COUNTS_OF_KIND.get(cls.kind, "as given")

    def train(self, task):
        X, y = self._train_set(task)
        start = time.perf_counter()
        images, labels = self.fit_resample(X, y)
        rebalance_seconds = time.perf_counter() - start
        result = self._fit(task, images, labels, task.budget_steps(y))
        return Trained.of_classifier(result, labels, rebalance_seconds, task.budget_kind, **self._record(task))

    def _train_set(self, task):
        """What it rebalances: the imbalanced train set."""
        return task.images, task.labels

    def _fit(self, task, images, labels, total_steps):
        """One classifier on the rebalanced set (a TrainResult)."""
        return task.fit(images, labels, self.seed, self.class_weight_, self.objective_, total_steps=total_steps)

    def _record(self, task):
        """What its family adds to Trained: identity and extra fields of the run's record."""
        return {}


def family_of(name):
    """The family of a method's kind (FAMILIES), or "other" for a name the registry lacks."""
    kind = REBALANCERS[name].kind if name in REBALANCERS else None
    return next((family for family, kinds in FAMILIES.items() if kind in kinds), "other")


def default_params(cls):
    """{parameter: default} of a method's class: what it runs with when the params name none."""
    return {name: parameter.default for name, parameter in inspect.signature(cls.__init__).parameters.items()
            if name not in ("self", "seed")}


def make_rebalancer(name, params=None, seed=0):
    """Build a registered method from its params (`rebalance.<name>` in the config)."""
    cls = REBALANCERS.pick(name)
    params = dict(params or {})
    known = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "seed")]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise SmateError(f"rebalance.{name} has unknown parameter {unknown[0]!r}; it takes: {', '.join(known) or 'none'}")
    for parameter, value in params.items():
        allowed = cls.constraints.get(parameter)
        if allowed is not None and not allowed.admits(value):
            raise SmateError(f"rebalance.{name}.{parameter} must be {allowed}, got {value!r}; "
                             f"e.g. --set rebalance.{name}.{parameter}={inspect.signature(cls.__init__).parameters[parameter].default}")
    return cls(seed=seed, **params)
