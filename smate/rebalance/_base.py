"""The Rebalancer interface and its registry."""

import inspect

import numpy as np

from ..errors import SmateError

REBALANCERS = {}


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
    # True for the reference method that trains on the untouched, balanced train set.
    uses_full_train = False
    # True for methods that add images made by the GAN stages (given through `use()`).
    needs_synthetic = False

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
    return cls(seed=seed, **params)
