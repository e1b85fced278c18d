"""Optional torch interop: tensors <-> NumPy arrays (torch is never required).

Handles CPU and CUDA tensors, contiguous or not, and bfloat16 (which NumPy
cannot represent: its 16 bits travel as uint16).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .npy import BFLOAT16

try:  # torch is optional: ComfyUI always has it, tests may not
    import torch as _torch
except Exception:  # pragma: no cover - depends on the environment
    _torch = None


def torch_module() -> Any:
    """The ``torch`` module, or None when it is not importable."""

    return _torch


def is_tensor(value: object) -> bool:
    return _torch is not None and isinstance(value, _torch.Tensor)


def is_array(value: object) -> bool:
    return isinstance(value, np.ndarray) or is_tensor(value)


def tensor_to_numpy(value: Any) -> tuple[np.ndarray, str | None]:
    """Return ``(array, dtype_name)``; dtype_name is 'bfloat16' when the array holds bfloat16 bits."""

    if isinstance(value, np.ndarray):
        return value, None
    t = value.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    t = t.contiguous()
    if t.dtype == _torch.bfloat16:
        return t.view(_torch.int16).numpy().view(np.uint16), BFLOAT16
    return t.numpy(), None


def numpy_to_tensor(array: np.ndarray, dtype_name: str | None = None) -> Any:
    """A tensor (or an array when torch is missing) that owns or shares a WRITABLE buffer.

    Arrays decoded from a file buffer are writable and used without a copy; read-only
    ones (base64 data) are copied once.
    """

    arr = array if array.flags.writeable and array.flags.c_contiguous else np.array(array, copy=True, order="C")
    if _torch is None:
        if dtype_name == BFLOAT16:
            # widen the bits to float32 so NumPy callers get numbers
            return (arr.astype(np.uint32) << 16).view(np.float32)
        return arr
    if dtype_name == BFLOAT16:
        return _torch.from_numpy(arr.view(np.int16)).view(_torch.bfloat16)
    try:
        return _torch.from_numpy(arr)
    except TypeError:
        # older torch builds have no uint16/uint32 tensors: widen losslessly (uint64 stays NumPy)
        wider = {np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64}.get(arr.dtype)
        return _torch.from_numpy(arr.astype(wider)) if wider is not None else arr


def shape_of(value: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in value.shape)


def float_kind(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f"
    return bool(value.is_floating_point())


__all__ = ["float_kind", "is_array", "is_tensor", "numpy_to_tensor", "shape_of", "tensor_to_numpy", "torch_module"]
