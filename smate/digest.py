"""Digests of the package's own code, for content keys and checkpoint fingerprints. It imports nothing of
the package, so that the GAN library can fingerprint its code without reaching up into the caching layer."""

import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the folder that holds smate/


def _python_files(paths, root):
    for path in paths:
        target = Path(root) / path
        yield from sorted(target.rglob("*.py")) if target.is_dir() else [target]


@functools.lru_cache(maxsize=None)
def code_digest(paths, root=ROOT):
    """sha256 over the Python files at `paths` ("smate/..."), each with its path, in a fixed order."""
    digest = hashlib.sha256()
    for file in _python_files(paths, root):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def file_digests(paths, root=ROOT):
    """{"smate/...py": sha256} of each Python file that code_digest(paths) reads: which of them changed."""
    return {file.relative_to(root).as_posix(): hashlib.sha256(file.read_bytes()).hexdigest()
            for file in _python_files(paths, root)}
