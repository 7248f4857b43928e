"""The params a stage declared, and nothing else: a read of any other param stops the stage with its name,
so that a param its content key leaves out is a failing test, not a stale result kept by its key."""

from collections.abc import Mapping


class UndeclaredParam(RuntimeError):
    """Not a KeyError, so that `params.get(...)` cannot swallow it."""


def covers(declared, dotted):
    """Whether a declared name covers the dotted param: the param itself or one of its parents."""
    return any(dotted == name or dotted.startswith(name + ".") for name in declared)


class DeclaredParams(Mapping):
    """A read-only view of `config` through which `stage` reads only the dotted params in `declared` (and
    what is under them); the tree above them can be walked and listed, not read."""

    def __init__(self, config, declared, stage, prefix=""):
        self._config, self._declared, self._stage, self._prefix = config, tuple(declared), stage, prefix

    def __getitem__(self, key):
        value = self._config[key]  # a KeyError for a key the params do not have, as a dict gives
        dotted = f"{self._prefix}{key}"
        if covers(self._declared, dotted):
            return value
        if isinstance(value, dict) and any(name.startswith(dotted + ".") for name in self._declared):
            return DeclaredParams(value, self._declared, self._stage, dotted + ".")
        raise UndeclaredParam(f"stage {self._stage} read '{dotted}', which it does not declare; add it to the "
                              f"stage's params in smate/pipeline/stage_registry.py (its content key must hold it)")

    def __iter__(self):
        return iter(self._config)

    def __len__(self):
        return len(self._config)

    def record(self):
        """Every param, for the record an output keeps of what made it; not to compute with."""
        return self._config
