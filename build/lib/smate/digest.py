"""Digests of the package's own code, for content keys and checkpoint fingerprints. It imports nothing of
the package, so that the GAN library can fingerprint its code without reaching up into the caching layer."""

import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the folder that holds smate/


@functools.lru_cache(maxsize=None)
def code_digest(paths, root=ROOT):
    """sha256 over the Python files at `paths` ("smate/..."), each with its path, in a fixed order."""
    digest = hashlib.sha256()
    for path in paths:
        target = Path(root) / path
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()
