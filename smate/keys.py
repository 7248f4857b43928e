"""Content keys: what a stage's output depends on (its params, its code, its input data and the keys
of the stages it reads), hashed, so a finished stage is kept across commits that leave those alone.

dvc.yaml runs the stages in groups (smate-bench run --only gan|train) whose deps and params cover
those of their stages here (a test holds the two together): DVC reruns a group when anything it
reads changes, and inside the group these keys keep every stage that the change leaves alone.
"""

import functools
import hashlib
import json
from pathlib import Path

from .config import generator_methods

PACKAGE = Path(__file__).resolve().parent

# Per stage kind: the package modules its output depends on.
# The train stages also depend on their own method's modules (`method_code`).
_TRAIN_CODE = ("smate/classify", "smate/augment.py", "smate/losses.py", "smate/metrics.py", "smate/precision.py")
STAGE_CODE = {
    "prepare": ("smate/data.py",),
    "split": ("smate/data.py",),
    "pretrain_gan": ("smate/gan", "smate/precision.py"),
    "transfer_gan": ("smate/gan", "smate/augment.py", "smate/precision.py"),
    "synthesize": ("smate/gan",),
    "feature_net": ("smate/classify", "smate/precision.py"),
    "guide_net": ("smate/classify", "smate/precision.py"),
    "gan_quality": ("smate/gan/quality.py",),
    "train": _TRAIN_CODE,
    "train_gan": _TRAIN_CODE,
}

_TRAIN_PARAMS = ("rebalance.{method}", "classify.model", "classify.device", "classify.eval_batch_size",
                 "classify.bf16", "classify.eval_every", "classify.budget", "classify.{model}")

# Per stage kind: the params it reads ({method} and {model} filled in per run).
STAGE_PARAMS = {
    "pretrain_gan": ("gan_methods", "gan.train", "gan.seed", "gan.device", "gan.pretrain"),
    "transfer_gan": ("gan.train", "gan.seed", "gan.device", "gan.transfer", "gan.conditional"),
    "synthesize": ("gan.train.architecture", "gan.seed", "gan.device", "seeds"),
    "feature_net": ("gan_methods", "gan.seed", "classify.model", "classify.device", "classify.bf16", "classify.eval_every",
                    "classify.{model}"),
    "guide_net": ("gan.seed", "classify.model", "classify.device", "classify.bf16", "classify.eval_every",
                  "classify.{model}"),
    "gan_quality": (),
    "train": _TRAIN_PARAMS,
    "train_gan": _TRAIN_PARAMS,
}

# Keyed values that are no longer params of their own: {name in the keys: (the param they come from, how)}.
# gan_methods was a list until `methods` took every method; under its name the keys made then still hold.
DERIVED = {"gan_methods": ("methods", generator_methods)}


@functools.lru_cache(maxsize=None)
def code_digest(paths):
    """sha256 over the Python files at `paths` ("smate/..."), each with its path, in a fixed order."""
    digest = hashlib.sha256()
    for path in paths:
        target = PACKAGE.parent / path
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for file in files:
            digest.update(file.relative_to(PACKAGE.parent).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def method_code(method):
    """The modules that define a registered method: its class's and its base classes' ("smate/...")."""
    from .rebalance import REBALANCERS

    modules = {cls.__module__ for cls in REBALANCERS[method].__mro__ if cls.__module__.startswith("smate.")}
    return tuple(sorted(module.replace(".", "/") + ".py" for module in modules))


def lookup(config, dotted):
    node = config
    for key in dotted.split("."):
        node = node[key]
    return node


def stage_params(config, kind, fields=None):
    """{dotted name: value} of the params stage `kind` reads, its template fields filled from `fields`."""
    fields = {"model": config["classify"]["model"], **(fields or {})}
    names = [name.format(**fields) for name in STAGE_PARAMS.get(kind, ())]
    return {name: DERIVED[name][1](config) if name in DERIVED else lookup(config, name) for name in names}


def stage_key(config, kind, data, upstream=(), fields=None, extra=None):
    """The content key of one stage: its params, its code, `data` (digests of what it reads from
    disk) and the keys of the stages whose outputs it reads."""
    code = STAGE_CODE[kind]
    if kind in ("train", "train_gan"):
        code += method_code(fields["method"])
    content = {
        "stage": kind,
        "params": stage_params(config, kind, fields),
        "code": code_digest(code),
        "data": data,
        "upstream": sorted(upstream),
        "extra": extra,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
