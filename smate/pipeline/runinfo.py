"""What a result needs to be trusted later: package versions, the device and the git commit."""

import os
import platform
import subprocess
from pathlib import Path
from importlib import metadata

import torch

from ..precision import native_bf16

PACKAGES = ("smate-bench", "torch", "torchvision", "kornia", "imbalanced-learn", "scikit-learn", "numpy", "pillow")


def environment(device=None):
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "device": describe_device(device),
        "git_commit": git_commit(),
    }


def describe_device(device=None):
    device = torch.device(device) if device is not None else None
    if device is not None and device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return {"type": "cuda", "name": torch.cuda.get_device_name(index), "cuda": torch.version.cuda,
                "compute_capability": ".".join(map(str, torch.cuda.get_device_capability(index)))}
    return {"type": "cpu", "name": _cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "native_bf16": native_bf16("cpu")}


def _cpu_name():
    """The CPU's model name (e.g. "AMD EPYC"), where torch can read it, else the machine type."""
    capabilities = getattr(torch.cpu, "get_capabilities", dict)()
    return capabilities.get("cpu_name") or platform.processor() or platform.machine()


# Tracked files a run writes, not reads: a committed results folder that a resumed run adds to is not a change of
# the code that makes the runs.
OUTPUTS = ("results",)


def git_commit(code=None):
    """HEAD of the repository this package's code is in (not the working directory's: a run from
    elsewhere ran this code), with '+dirty' when tracked files other than OUTPUTS changed; outside git, the
    commit the container was built from (SMATE_GIT_COMMIT), else None."""
    code = code or Path(__file__).resolve().parent
    outputs = [f":(top,exclude){folder}" for folder in OUTPUTS]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True,
                              cwd=code).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)", *outputs],
                               capture_output=True, text=True, timeout=10, check=True, cwd=code).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return os.environ.get("SMATE_GIT_COMMIT")
    return head + ("+dirty" if dirty else "")
