"""The Rebalancer interface, its declared contract and its registry."""

import inspect
import math
from dataclasses import dataclass

import numpy as np

from ..errors import SmateError

REBALANCERS = {}

# What a method does to the train set, which says what class counts it returns (the shared tests read it):
# reference, weight, loss, boost: the counts as given; under: every class down to the smallest; over,
# synthetic, generator: every class up to the largest (repeats, pixel interpolations, GAN images); decoupled:
# the counts as given, its work done on the imbalanced run's network (rebalance/decoupled.py).
KINDS = ("reference", "under", "over", "synthetic", "weight", "loss", "generator", "boost", "decoupled")
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


def register(name):
    def add(cls):
        cls.name = name
        REBALANCERS[name] = cls
        return cls

    return add


class Rebalancer:
    """Turns an imbalanced train set into a training set, like imbalanced-learn's samplers.

    `fit_resample(X, y)` takes uint8 images (N, H, W, C) and int labels and returns the images
    and labels to train on. After it, `class_weight_` holds per-class loss weights or None, and
    `objective_` a losses.Objective for the methods that change the loss or the logits, or None.
    """

    name = "base"
    kind = None  # one of KINDS
    # Whether its output changes with the seed (a random draw, beyond the classifier's own).
    random = False
    # Whether it balances the counts exactly; ADASYN allots its images by neighbourhood difficulty.
    exact = True
    # {parameter: Interval}: what make_rebalancer checks each of its parameters against.
    constraints = {}
    # True for the reference method that trains on the untouched, balanced train set.
    uses_full_train = False
    # True for methods that add images made by the GAN stages (given through `use()`).
    needs_synthetic = False
    # True for methods that re-fit the last layer of the imbalanced run's network (`refit`) instead of training one.
    decoupled = False
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


def family_of(name):
    """The family of a method's kind (FAMILIES), or "other" for a name the registry lacks."""
    kind = REBALANCERS[name].kind if name in REBALANCERS else None
    return next((family for family, kinds in FAMILIES.items() if kind in kinds), "other")


def make_rebalancer(name, params=None, seed=0):
    """Build a registered method from its params (`rebalance.<name>` in the config)."""
    if name not in REBALANCERS:
        raise SmateError(f"unknown method {name!r}; registered methods: {', '.join(REBALANCERS)}")
    cls = REBALANCERS[name]
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
