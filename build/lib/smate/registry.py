"""The one way to register a pluggable part: methods, classifiers, GAN architectures and losses, stages and data
sources each have a Registry. An entry is either registered by its own module (`@REGISTRY.register("name")`,
the module found by importing every module of the registry's package) or named as "module:attribute" and
imported on first use, so that the CLI and the params' checks name classifiers and GAN parts without
importing torch (2-5 s of every DVC stage process on our CPU, whether or not it trained anything)."""

import importlib
import pkgutil
from collections.abc import MutableMapping

from .errors import SmateError


class Registry(MutableMapping):
    """{name: entry} of one kind of part (`kind` names it in errors). `targets` gives entries as "module:attribute"
    (or a tuple of them, for a tuple), imported when first looked up; `package` is a package whose every public
    module is imported before the registry is first read, so that a part is one new module there."""

    def __init__(self, kind, targets=None, package=None):
        self.kind, self._package = kind, package
        self._targets, self._loaded = dict(targets or {}), {}

    def register(self, name):
        """A decorator that adds a class or function under `name` (and sets its `name`, for a class)."""
        def add(entry):
            if isinstance(entry, type):
                entry.name = name
            self[name] = entry
            return entry
        return add

    def pick(self, name, where=None):
        """The entry called `name`, or one line naming the ones there are."""
        if name not in self:
            raise SmateError(f"unknown {self.kind} {name!r}{f' in {where}' if where else ''}; "
                             f"choose one of: {', '.join(self)}")
        return self[name]

    def _discover(self):
        package, self._package = self._package, None
        if package:
            for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
                if not module.name.startswith("_"):
                    importlib.import_module(f"{package}.{module.name}")

    def __getitem__(self, name):
        self._discover()
        if name not in self._loaded:
            self._loaded[name] = load(self._targets[name])
        return self._loaded[name]

    def __setitem__(self, name, entry):
        self._targets[name] = None
        self._loaded[name] = entry

    def __delitem__(self, name):
        del self._targets[name]
        self._loaded.pop(name, None)

    def __contains__(self, name):
        self._discover()
        return name in self._targets  # Mapping's own would import the entry

    def __iter__(self):
        self._discover()
        return iter(list(self._targets))

    def __len__(self):
        self._discover()
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
