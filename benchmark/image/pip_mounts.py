"""Print the host's pip settings as `--volume` flags, so that pip inside a build finds what pip here finds.

On a machine whose packages come through a proxy with its own CA, or from folders on disk, a build's
pip sees neither; mounting pip's config files and every local path they name (read-only, at the same
place) fixes both without writing the host's settings into any Dockerfile.
"""

import subprocess
import sys
from pathlib import Path

PATH_KEYS = ("cert", "client-cert", "constraint", "find-links", "index-url", "extra-index-url", "requirement")


def _local_path(key, value):
    if not value.startswith(("/", "file:///")):
        return None
    path = value.removeprefix("file://").rstrip("/")
    # A local index's pages link to files beside it (../../files/...), so its parent goes in whole.
    return str(Path(path).parent) if key.endswith("index-url") else path


def pip_paths(debug_output):
    """Existing config files that `pip config debug` lists, and the local paths their values name."""
    paths = []
    for line in debug_output.splitlines():
        stripped = line.strip()
        if stripped.endswith(", exists: True"):
            paths.append(stripped.removesuffix(", exists: True"))
        elif ": " in stripped:
            name, values = stripped.split(": ", 1)
            key = name.rsplit(".", 1)[-1]
            if key in PATH_KEYS:
                paths.extend(_local_path(key, value) for value in values.split())
    existing = sorted({path for path in paths if path and Path(path).exists()})
    # A folder's mount carries what lies under it; mounting both would stack two mounts.
    return [path for path in existing if not any(path.startswith(other + "/") for other in existing)]


def main():
    debug = subprocess.run([sys.executable, "-m", "pip", "config", "debug"], capture_output=True, text=True, check=True)
    print(" ".join(f"--volume {path}:{path}:ro" for path in pip_paths(debug.stdout)))


if __name__ == "__main__":
    main()
