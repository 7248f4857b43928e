"""A registry whose names are known at once and whose entries are imported on first use: the CLI and the
params' checks name classifiers, GAN architectures and losses without importing torch, which cost every
DVC stage process 2-5 s on our CPU whether or not it trained anything."""

import importlib
from collections.abc import Mapping


class Registry(Mapping):
    """{name: entry}, each entry given as "module:attribute" (or a tuple of them, for a tuple) and imported
    the first time its name is looked up."""

    def __init__(self, targets):
        self._targets, self._loaded = dict(targets), {}

    def __getitem__(self, name):
        if name not in self._loaded:
            self._loaded[name] = load(self._targets[name])
        return self._loaded[name]

    def __contains__(self, name):
        return name in self._targets  # Mapping's own would import the entry

    def __iter__(self):
        return iter(self._targets)

    def __len__(self):
        return len(self._targets)


def load(target):
    """The object that "module:attribute" names (a tuple of them: a tuple of objects), imported now."""
    if isinstance(target, tuple):
        return tuple(load(part) for part in target)
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def lazy_attributes(module_name, attributes):
    """A module's __getattr__ that imports each of `attributes` ({name: "module:attribute"}) when first asked for."""
    def __getattr__(name):
        if name not in attributes:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        return load(attributes[name])
    return __getattr__
