"""Rebalancing methods behind one imbalanced-learn style interface, found by name in a registry.

A new method is one new module in this package that subclasses `Rebalancer` (or a family's base class) and
decorates it with `@register("name")`; the registry imports every module here when it is first read. The
modules import imbalanced-learn, scikit-learn and kornia inside the methods that use them, so that listing
the registry (`smate-bench methods`, every DVC stage's start) does not wait about 1.5 s for them.
"""

from ._base import FAMILIES, KINDS, REBALANCERS, Rebalancer, default_params, family_of, make_rebalancer, register

__all__ = ["FAMILIES", "KINDS", "REBALANCERS", "Rebalancer", "default_params", "family_of", "make_rebalancer", "register"]
