"""Atomic writes: a killed process leaves the old file or the new one, never half of one."""

import contextlib
import json
import os
import re
import secrets
import shutil
from pathlib import Path

PARTIAL = re.compile(r"\..+\.[0-9a-f]{16}\.partial")


def _partial_name(path):
    """A fresh name beside `path`. Callers hold it before they create the file or folder, so that an
    interrupt at any point leaves them a name to clean up; blocking the signals would not do, since the
    kernel may hand one to another thread and Python still raises it in this one."""
    return path.parent / f".{path.name}.{secrets.token_hex(8)}.partial"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success rename it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        tmp = _partial_name(path)
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_bytes(path, data):
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a fresh temporary folder beside `path`; on success it replaces `path` whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        tmp = _partial_name(path)
        os.mkdir(tmp, 0o700)
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp)


def remove_partials(root):
    """Remove the partial files and folders below `root`, for a caller that knows no process still
    writes them (a SIGKILL or a lost node skips the cleanup above); returns how many."""
    found = [path for path in Path(root).rglob("*.partial") if PARTIAL.fullmatch(path.name)]
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return len(found)
