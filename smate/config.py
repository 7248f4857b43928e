"""Parameters: the paper preset holds every default; presets, a params file and --set override it."""

import copy
import importlib.util
from importlib import resources
from pathlib import Path

import yaml

from .errors import SmateError

PRESET_DIR = resources.files("smate") / "presets"


def preset_names():
    return sorted(p.name.removesuffix(".yaml") for p in PRESET_DIR.iterdir() if p.name.endswith(".yaml"))


def defaults():
    """paper.yaml, with every registered method's parameters under `rebalance:` (its own defaults where the
    file names none), so that a method is one module: the params know it, and `methods: [all]` runs it."""
    from .rebalance import REBALANCERS, default_params

    config = yaml.safe_load((PRESET_DIR / "paper.yaml").read_text())
    written = config["rebalance"]
    for name, cls in REBALANCERS.items():
        written[name] = {**written.get(name, {}), **{k: v for k, v in default_params(cls).items() if k not in written.get(name, {})}}
    return config


def select_methods(names, where="methods"):
    """`names` with `all` and each family (smate/rebalance/_base.py's FAMILIES) spelled out, each method once:
    `all` in the families' order, a family in the registry's."""
    from .rebalance import FAMILIES, REBALANCERS, family_of

    chosen = []
    for name in names:
        if name == "all":
            chosen += [method for family in FAMILIES for method in REBALANCERS if family_of(method) == family]
        elif name in FAMILIES:
            chosen += [method for method in REBALANCERS if family_of(method) == name]
        elif name in REBALANCERS:
            chosen.append(name)
        else:
            raise SmateError(f"unknown method {name!r} in {where}; name methods ({', '.join(REBALANCERS)}), "
                             f"families ({', '.join(FAMILIES)}) or all")
    return list(dict.fromkeys(chosen))


def load_preset(name):
    """A packaged preset by name, or any YAML file by path; `extends: OTHER` layers it on another preset."""
    if name.endswith((".yaml", ".yml")):
        preset = _read_yaml(Path(name))
    elif name not in preset_names():
        raise SmateError(f"unknown preset '{name}'; choose one of: {', '.join(preset_names())}, or give a .yaml path")
    else:
        preset = yaml.safe_load((PRESET_DIR / f"{name}.yaml").read_text()) or {}
    parent = preset.pop("extends", None)
    return _layer(load_preset(parent), preset) if parent else preset


def _layer(base, update):
    """`update`'s keys over `base`'s, nested dicts key by key; checking them is merge's job."""
    layered = dict(base)
    for key, value in update.items():
        layered[key] = _layer(base[key], value) if isinstance(base.get(key), dict) and isinstance(value, dict) else value
    return layered


def _read_yaml(path):
    if not path.is_file():
        raise SmateError(f"params file '{path}' does not exist; check the path")
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise SmateError(f"params file '{path}' is not valid YAML ({err.problem}); fix its syntax") from None


def build_config(params_file=None, preset=None, overrides=()):
    """Defaults <- params file <- preset <- `KEY=VALUE` overrides, checked against the defaults' keys and types."""
    config = defaults()
    if params_file is not None:
        config = merge(config, _read_yaml(Path(params_file)), origin=str(params_file))
    if preset is not None:
        config = merge(config, load_preset(preset), origin=f"preset {preset}")
    for override in overrides:
        config = apply_override(config, override)
    config["methods"] = select_methods(config["methods"])
    validate(config)
    return config


def merge(base, update, origin, prefix=""):
    merged = copy.deepcopy(base)
    if not prefix and "gan_methods" in update:
        _refuse_gan_methods(origin, update.get("methods", base["methods"]), update["gan_methods"])
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if key not in merged:
            raise SmateError(f"{origin}: unknown parameter '{dotted}'; known here: {', '.join(map(str, merged))}")
        if isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = merge(merged[key], value, origin, prefix=f"{dotted}.")
        else:
            merged[key] = _coerce(dotted, merged[key], value)
    return merged


def apply_override(config, override):
    """Apply one `a.b.c=value`; lists are written `x,y,z`."""
    if "=" not in override:
        raise SmateError(f"--set '{override}' has no '='; write it as KEY=VALUE, e.g. --set data.ratio=0.1")
    dotted, raw = override.split("=", 1)
    keys = dotted.strip().split(".")
    if keys == ["gan_methods"]:
        _refuse_gan_methods("--set", config["methods"], _parse_value(raw, listy=True) or [])
    node = config
    for depth, key in enumerate(keys[:-1]):
        if not isinstance(node.get(key), dict):
            raise SmateError(f"--set: unknown parameter '{'.'.join(keys[: depth + 1])}'; see `smate-bench params`")
        node = node[key]
    leaf = keys[-1]
    if leaf not in node:
        raise SmateError(f"--set: unknown parameter '{dotted}'; see `smate-bench params` for every key")
    value = _parse_value(raw, listy=isinstance(node[leaf], list) or dotted == "data.minority")
    updated = copy.deepcopy(config)
    target = updated
    for key in keys[:-1]:
        target = target[key]
    target[leaf] = _coerce(dotted, node[leaf], value)
    return updated


def _refuse_gan_methods(origin, methods, gan_methods):
    """The generator methods had a list of their own until one `methods` list took every method."""
    gan_methods = gan_methods if isinstance(gan_methods, list) else [gan_methods]
    plain = plain_methods({"methods": [m for m in select_methods(methods) if m not in gan_methods]})
    raise SmateError(f"{origin}: gan_methods is gone; every method, generator ones included, goes in methods: "
                     f"methods: [{', '.join(plain + gan_methods)}]")


def _parse_value(raw, listy):
    """A value as written after `--set KEY=`: YAML, where a list may also be written bare, x,y,z."""
    raw = raw.strip()
    if listy and not raw:
        return []
    try:
        if listy and "," in raw and not raw.startswith("["):
            return [yaml.safe_load(item.strip()) for item in raw.split(",") if item.strip()]
        return yaml.safe_load(raw) if raw else None
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise SmateError(f"--set value '{raw}' cannot be read ({problem}); write a list as x,y,z or [x, y, z]") from None


# per_seed: each run seed trains its own generators, so the seeds replicate the generators' training too;
# shared_pretrain: one pretraining on the majority (the same classes for every seed), a transfer per run seed.
GENERATORS = ("per_seed", "shared_pretrain", "single")
# What report.metric may rank methods by on a user's data, the default first.
RANKED = ("balanced_accuracy", "minority_recall", "macro_f1", "minority_average_precision")

# Parameters that take values of more than one type; validate() checks them.
FREE_TYPED = ("data.minority", "data.channels", "data.image_size", "data.seed")

# Parameters that take true, false or "auto".
TRISTATE = ("classify.bf16", "gan.train.bf16")


def _coerce(dotted, default, value):
    """Check `value` against the default's type; a scalar where a list is expected becomes a list."""
    if dotted in FREE_TYPED or default is None:
        return value
    if dotted in TRISTATE:
        if value != "auto" and not isinstance(value, bool):
            raise SmateError(f"parameter '{dotted}' must be auto, true or false, got {value!r}")
        return value
    if isinstance(default, list) and not isinstance(value, list):
        value = [value]
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise SmateError(f"parameter '{dotted}' must be {type(default).__name__}, got {value!r}")
    return value


def validate(config):
    """Checks that need more than a type: ranges, known names."""
    from .classify import CLASSIFIERS
    from .data import PROFILES, SOURCES
    from .data.fills import FILLS
    from .data.images import Policy
    from .gan import ARCHITECTURES, LOSSES
    from .rebalance import REBALANCERS

    data = config["data"]
    ratio = data["ratio"]
    if not 0 < ratio <= 1:
        raise SmateError(f"data.ratio must be in (0, 1], got {ratio}; e.g. --set data.ratio=0.1 keeps 10% of the minority")
    if data["profile"] not in PROFILES:
        raise SmateError(f"unknown data.profile {data['profile']!r}; choose one of: {', '.join(PROFILES)}")
    if not data["imbalance_factor"] >= 1:
        raise SmateError(f"data.imbalance_factor must be at least 1 (the largest class over the smallest), "
                         f"got {data['imbalance_factor']}; the field uses 10, 50 and 100")
    minority = data["minority"]
    names = minority if isinstance(minority, list) else [minority]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise SmateError(f"data.minority must be a class name or a list of names, got {minority!r}")
    for key in ("max_train_per_class", "max_test_per_class"):
        value = data[key]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise SmateError(f"data.{key} must be a positive integer or null, got {value!r}")
    if data["source"] != "auto" and data["source"] not in SOURCES:
        raise SmateError(f"data.source must be one of auto, {', '.join(SOURCES)}, got {data['source']!r}")
    if not 0 < data["test_fraction"] < 1:
        raise SmateError(f"data.test_fraction must be between 0 and 1, got {data['test_fraction']}; 0.2 is usual")
    Policy.from_params(data)
    missing = [m for m in config["methods"] if m not in config["rebalance"]]
    if missing:
        raise SmateError(f"method {missing[0]!r} has no entry under 'rebalance:' in the params; add `{missing[0]}: {{}}`")
    if not config["methods"]:
        raise SmateError("methods is empty; name at least one, e.g. --set methods=imbalanced,smote")
    missing = [(m, REBALANCERS[m].base_method) for m in config["methods"]
               if REBALANCERS[m].kind == "decoupled" and REBALANCERS[m].base_method not in config["methods"]]
    if missing:
        method, base = missing[0]
        raise SmateError(f"method {method!r} re-fits the last layer of the {base} run's network; add {base} to methods")
    if not config["seeds"] or not all(isinstance(s, int) and s >= 0 for s in config["seeds"]):
        raise SmateError(f"seeds must be a non-empty list of non-negative integers, got {config['seeds']!r}")
    split_seed = data["seed"]
    if split_seed != "run" and not (isinstance(split_seed, int) and not isinstance(split_seed, bool) and split_seed >= 0):
        raise SmateError(f"data.seed must be run (each run seed draws its own kept images) or a non-negative integer "
                         f"(one fixed draw for every seed), got {data['seed']!r}")
    gan = config["gan"]["train"]
    for key, known in (("architecture", ARCHITECTURES), ("loss", LOSSES), ("optimizer", ("adam", "rmsprop"))):
        if gan[key] not in known:
            raise SmateError(f"unknown gan.train.{key} {gan[key]!r}; choose one of: {', '.join(known)}")
    if gan["lr_d"] is not None and not (isinstance(gan["lr_d"], (int, float)) and gan["lr_d"] > 0):
        raise SmateError(f"gan.train.lr_d must be a positive learning rate or null (G's lr), got {gan['lr_d']!r}")
    if not 0 <= gan["ema"] < 1:
        raise SmateError(f"gan.train.ema must be a decay in [0, 1) (0.999 is usual, 0 turns it off), got {gan['ema']}")
    if gan["ema_batchnorm"] not in ("recompute", "average"):
        raise SmateError(f"gan.train.ema_batchnorm must be recompute or average, got {gan['ema_batchnorm']!r}")
    fill = config["gan"]["transfer"]["fill"]
    if fill not in FILLS:
        raise SmateError(f"gan.transfer.fill must be one of {', '.join(FILLS)}, got {fill!r}")
    transfer = config["gan"]["transfer"]
    if not (isinstance(transfer["freeze_d"], int) and not isinstance(transfer["freeze_d"], bool) and transfer["freeze_d"] >= 0):
        raise SmateError(f"gan.transfer.freeze_d must be a number of D's first layers to freeze (0: none), "
                         f"got {transfer['freeze_d']!r}")
    if not (isinstance(transfer["lecam"], (int, float)) and transfer["lecam"] >= 0):
        raise SmateError(f"gan.transfer.lecam must be 0 (off) or a positive weight (0.3 in its paper), got {transfer['lecam']!r}")
    if gan["r1"] < 0:
        raise SmateError(f"gan.train.r1 must be 0 (off) or a positive weight (0.1 to 10 are usual), got {gan['r1']}")
    if config["report"]["metric"] not in RANKED:
        raise SmateError(f"report.metric must be one of {', '.join(RANKED)}, got {config['report']['metric']!r}")
    if config["gan"]["generators"] not in GENERATORS:
        raise SmateError(f"gan.generators must be one of {', '.join(GENERATORS)}, got {config['gan']['generators']!r}")
    classify = config["classify"]
    if classify["budget"] not in ("epochs", "steps"):
        raise SmateError(f"classify.budget must be epochs or steps, got {classify['budget']!r}")
    if not isinstance(classify["eval_every"], int) or isinstance(classify["eval_every"], bool) or classify["eval_every"] < 1:
        raise SmateError(f"classify.eval_every must be a positive number of epochs, got {classify['eval_every']!r}")
    if config["classify"]["model"] not in CLASSIFIERS:
        raise SmateError(f"unknown classify.model {config['classify']['model']!r}; choose one of: {', '.join(CLASSIFIERS)}")
    _validate_keras_cnn(classify["keras_cnn"], config["rebalance"])
    check_dvclive(config["log"]["dvclive"])


def check_dvclive(enabled):
    """Stop before any work when log.dvclive is on and DVCLive is not installed."""
    if enabled and importlib.util.find_spec("dvclive") is None:
        raise SmateError("log.dvclive is on but DVCLive is not installed; pip install dvclive "
                         "(or smate-bench[live]), or --set log.dvclive=false")


def _validate_keras_cnn(params, methods):
    from .classify import KERAS_CNN_RECIPES

    if params["recipe"] not in KERAS_CNN_RECIPES:
        raise SmateError(f"unknown classify.keras_cnn.recipe {params['recipe']!r}; "
                         f"choose one of: {', '.join(KERAS_CNN_RECIPES)}")
    if params["recipe"] == "authors" and (params["flip"] or params["translate"]):
        raise SmateError("classify.keras_cnn: the authors' recipe trains without augmentation; set flip false and "
                         "translate 0, or recipe ours")
    unknown = [m for m in params["unscaled"] if m not in methods]
    if unknown:
        raise SmateError(f"classify.keras_cnn.unscaled names {unknown[0]!r}, which is no method under 'rebalance:'")


def generator_methods(params):
    """The methods that train generators before their runs, in `params`' order."""
    from .rebalance import REBALANCERS

    return [m for m in params["methods"] if m in REBALANCERS and REBALANCERS[m].kind == "generator"]


def generator_seeds(config):
    """The seeds of the generators a run trains (the transfers, the cGAN, SMate+'s guide): one per run seed
    (gan.generators: per_seed or shared_pretrain), else gan.seed's one."""
    return [config["gan"]["seed"]] if config["gan"]["generators"] == "single" else list(config["seeds"])


def generator_seed_of(config, run_seed):
    """The seed of the generators whose images the run of `run_seed` draws."""
    return config["gan"]["seed"] if config["gan"]["generators"] == "single" else run_seed


def pretrain_seeds(config):
    """The seeds of the majority pretrainings: one per run seed under per_seed, else gan.seed's one."""
    return list(config["seeds"]) if config["gan"]["generators"] == "per_seed" else [config["gan"]["seed"]]


def pretrain_seed_of(config, generator_seed):
    """The seed of the pretraining the generators of `generator_seed` transfer from."""
    return generator_seed if config["gan"]["generators"] == "per_seed" else config["gan"]["seed"]


def split_seed_of(config, seed):
    """The seed that draws the kept train images which the run (or generator) of `seed` reads: the seed itself
    under data.seed: run, else data.seed's one fixed draw."""
    data_seed = config["data"]["seed"]
    return seed if data_seed == "run" else data_seed


def split_seeds(config):
    """The split seeds the runs and the generators of a plan read, in order."""
    seeds = [*config["seeds"], *([] if config["gan"]["generators"] == "per_seed" else [config["gan"]["seed"]])]
    return sorted({split_seed_of(config, seed) for seed in seeds})


def plain_methods(params):
    """The methods that train on the split as it is, or on what a sampler makes of it."""
    return [m for m in params["methods"] if m not in generator_methods(params)]


def minority_names(config):
    minority = config["data"]["minority"]
    return list(minority) if isinstance(minority, list) else [minority]


def dump(config):
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=None)
