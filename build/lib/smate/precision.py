"""bf16 autocast where the device computes bf16 natively; fp32 elsewhere, where bf16 is emulated and slower."""

import torch

from .errors import SmateError

# torch's own CPU feature checks: AVX512-BF16 (e.g. AMD Zen 4, Intel Cooper Lake) or Intel AMX.
_CPU_BF16_CHECKS = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")


def native_bf16(device):
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return any(getattr(torch.cpu, check, lambda: False)() for check in _CPU_BF16_CHECKS)
    return False


def resolve_bf16(setting, device):
    """`setting` is true, false or "auto" (on where `native_bf16`)."""
    if setting == "auto":
        return native_bf16(device)
    if isinstance(setting, bool):
        return setting
    raise SmateError(f"bf16 must be auto, true or false, got {setting!r}")
