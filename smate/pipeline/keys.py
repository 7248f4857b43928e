"""Content keys: what a stage's output depends on (the params and code its declaration names, the data
it reads and the keys of the stages it reads), hashed, so a finished stage is kept across commits that
leave those alone. The declarations are stage_registry.py's.

dvc.yaml runs the stages in groups (smate-bench run --only train) whose deps and params cover
those of their stages (a test holds the two together): DVC reruns a group when anything it reads
changes, and inside the group these keys keep every stage that the change leaves alone.
"""

import hashlib
import json

from ..digest import ROOT, code_digest, file_digests


def lookup(config, dotted):
    node = config
    for key in dotted.split("."):
        node = node[key]
    return node


def stage_params(spec, config, fields=None):
    """{dotted name: value} of the params stage `spec` declares, its templates filled from `fields`."""
    return {name: lookup(config, name) for name in spec.declared(config, fields)}


def data_digest(dataset_info, split_info, split_seed=None):
    """What a keyed stage reads of the data: the prepared arrays' digest (the decoded train and test images
    and labels), the minority classes and, for a stage that reads a split, its split seed's kept indices."""
    digest = {"arrays_sha256": dataset_info["arrays_sha256"], "minority_ids": split_info["minority_ids"]}
    if split_seed is not None:
        digest["split_digest"] = split_info["splits"][str(split_seed)]["split_digest"]
    return digest


def key_parts(spec, config, data, upstream, fields=None):
    """What one stage instance's key is made from, each part readable, so that `smate-bench status` can say which
    changed: its params' values, each code file's sha256, `data` and {upstream stage: key}."""
    return {"params": stage_params(spec, config, fields), "code": file_digests(spec.modules(fields), ROOT), "data": data,
            "upstream": dict(upstream)}


def stage_key(spec, config, data, upstream=(), fields=None):
    """The content key of one stage instance: its declared params and code, `data` (data_digest), its
    fields (variant, method, seeds) and the keys of the stages whose outputs it reads."""
    content = {
        "stage": spec.name,
        "params": stage_params(spec, config, fields),
        "code": code_digest(spec.modules(fields), ROOT),
        "data": data,
        "upstream": sorted(upstream),
        "fields": fields or {},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
