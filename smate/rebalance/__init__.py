"""Rebalancing methods behind one imbalanced-learn style interface, found by name in a registry.

A new method is one new module in this package that subclasses `Rebalancer` and decorates it
with `@register("name")`; every module here is imported, so the registry sees it. The modules
import imbalanced-learn, scikit-learn and kornia inside the methods that use them, so that listing
the registry (`smate-bench methods`, every DVC stage's start) does not wait about 1.5 s for them.
"""

import importlib
import pkgutil

from ._base import FAMILIES, REBALANCERS, Rebalancer, family_of, make_rebalancer, register

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["FAMILIES", "REBALANCERS", "Rebalancer", "family_of", "make_rebalancer", "register"]
