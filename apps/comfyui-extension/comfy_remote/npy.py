"""NumPy ``.npy`` files as bytes, without pickle.

``decode_npy`` reads versions 1-3 of the format for plain numeric/bool dtypes
(little-endian, C order: what the TypeScript codec accepts too) and never unpickles object arrays.
bfloat16 has no NumPy dtype: it travels as its raw uint16 bits, with the dtype
name ``bfloat16`` either in the .npy ``descr`` or on the encoded value.
"""

from __future__ import annotations

import ast
import re
import struct
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import CodecError

MAGIC = b"\x93NUMPY"
BFLOAT16 = "bfloat16"
_BF16_DESCRS = {"bfloat16", "<bfloat16", "|bfloat16", "bf16", "<bf16"}
_ALLOWED_KINDS = {"f", "i", "u", "b"}
_PLAIN_DESCR = re.compile(r"[<>|=]?[a-zA-Z][a-zA-Z0-9]{0,15}\Z")
# Largest header text accepted (the TypeScript codec's NPY_MAX_HEADER_BYTES; numpy writes ~128 bytes).
NPY_MAX_HEADER_BYTES = 64 * 1024
# Largest element count: an int64 (numpy's own np.prod would overflow past it).
_MAX_COUNT = 2**62


@dataclass
class NpyArray:
    """A decoded .npy file: ``array`` holds the values (uint16 bits when ``dtype`` is bfloat16)."""

    array: np.ndarray
    dtype: str

    @property
    def is_bfloat16(self) -> bool:
        return self.dtype == BFLOAT16


def _parse_header(buf: memoryview) -> tuple[dict, int]:
    if len(buf) < 10 or bytes(buf[:6]) != MAGIC:
        raise CodecError("not a .npy file: the bytes do not start with \\x93NUMPY; send a NumPy .npy file", code="NPY_BAD_HEADER")
    major = buf[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", bytes(buf[8:10]))
        start = 10
    elif major in (2, 3):
        if len(buf) < 12:
            raise CodecError(".npy header is truncated", code="NPY_BAD_HEADER")
        (hlen,) = struct.unpack("<I", bytes(buf[8:12]))
        start = 12
    else:
        raise CodecError(f".npy format version {major} is not supported (use 1, 2 or 3)", code="NPY_BAD_HEADER")
    if hlen > NPY_MAX_HEADER_BYTES:
        raise CodecError(
            f".npy header is {hlen} bytes, over the {NPY_MAX_HEADER_BYTES}-byte limit; send what numpy.save writes",
            code="NPY_BAD_HEADER",
        )
    end = start + hlen
    if end > len(buf):
        raise CodecError(".npy header is truncated", code="NPY_BAD_HEADER")
    try:
        text = bytes(buf[start:end]).decode("utf-8" if major == 3 else "latin1")
        with warnings.catch_warnings():  # a hostile header's "\q" is data, not a warning to print
            warnings.simplefilter("ignore")
            header = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, UnicodeDecodeError) as exc:
        text = bytes(buf[start : min(end, start + 80)]).decode("latin1")
        raise CodecError(f".npy header is not a Python literal: {text[:80]!r}", code="NPY_BAD_HEADER", cause=exc) from exc
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        raise CodecError(".npy header must be a dict with descr, fortran_order and shape", code="NPY_BAD_HEADER")
    return header, end


def decode_npy(data: bytes | bytearray | memoryview, dtype_hint: str | None = None) -> NpyArray:
    """Decode .npy bytes. ``dtype_hint='bfloat16'`` marks uint16 data as bfloat16 bits."""

    buf = memoryview(data).cast("B")
    header, offset = _parse_header(buf)
    descr = header["descr"]
    shape = header["shape"]
    if not isinstance(descr, str):
        raise CodecError(f".npy dtype {descr!r} is structured; only plain numeric and bool arrays are accepted", code="NPY_UNSUPPORTED_DTYPE")
    if not isinstance(shape, tuple) or not all(type(d) is int and 0 <= d <= _MAX_COUNT for d in shape):
        shown = repr(shape)[:80] if isinstance(shape, (tuple, list, str, int, float)) else type(shape).__name__
        raise CodecError(f".npy shape {shown} must be a tuple of non-negative ints", code="NPY_BAD_HEADER")
    if not isinstance(header["fortran_order"], bool):
        raise CodecError(".npy fortran_order must be True or False", code="NPY_BAD_HEADER")
    name = None
    if descr in _BF16_DESCRS:
        dt = np.dtype("<u2")
        name = BFLOAT16
    else:
        if not _PLAIN_DESCR.match(descr):  # np.dtype parses "<f4, <i4" etc. as records (SyntaxError on junk)
            raise CodecError(f".npy dtype {descr[:40]!r} is not a plain numeric type code", code="NPY_UNSUPPORTED_DTYPE")
        try:
            dt = np.dtype(descr)
        except (TypeError, ValueError, OverflowError, MemoryError) as exc:
            raise CodecError(f".npy dtype {descr!r} is not understood", code="NPY_UNSUPPORTED_DTYPE", cause=exc) from exc
        if dt.kind not in _ALLOWED_KINDS or dt.hasobject:
            raise CodecError(
                f".npy dtype {descr!r} is not accepted (object/str/complex arrays need pickle); "
                "send float, int, uint or bool arrays",
                code="NPY_UNSUPPORTED_DTYPE",
            )
        if dt.byteorder == ">":
            raise CodecError(f".npy dtype {descr!r} is big-endian; send little-endian data", code="NPY_BIG_ENDIAN")
    count = 1
    for d in shape:  # Python ints: no int64 overflow (np.prod wrapped negative on huge shapes)
        count *= d
    need = count * dt.itemsize
    if len(buf) - offset < need:
        raise CodecError(
            f".npy data is truncated: shape {shape} {descr} needs {need} bytes, got {len(buf) - offset}",
            code="NPY_TRUNCATED",
        )
    if header["fortran_order"]:
        raise CodecError(".npy data is in Fortran order; send C-order arrays (np.ascontiguousarray)", code="NPY_FORTRAN_ORDER")
    try:
        arr = np.frombuffer(buf, dtype=dt, count=count, offset=offset).reshape(shape)
    except (ValueError, MemoryError) as exc:  # e.g. shape (0, 2**62): "array is too big"
        raise CodecError(f".npy shape {shape} is not a valid array shape", code="NPY_BAD_HEADER", cause=exc) from exc
    if dtype_hint == BFLOAT16 and dt.kind in ("u", "i") and dt.itemsize == 2:
        name = BFLOAT16
        arr = arr.view(np.uint16) if dt.kind == "i" else arr
    if name is None:
        name = np.dtype(arr.dtype).name
    return NpyArray(array=arr, dtype=name)


def _header_bytes(descr: str, shape: tuple[int, ...]) -> bytes:
    shape_txt = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_txt)
    total = len(MAGIC) + 4 + len(text) + 1
    pad = (64 - total % 64) % 64
    text = text + " " * pad + "\n"
    return MAGIC + b"\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def npy_parts(array: np.ndarray, dtype: str | None = None) -> tuple[bytes, np.ndarray]:
    """``(header, C-contiguous little-endian array)``: header + ``array.data`` is the .npy file.

    Pass ``dtype='bfloat16'`` with a uint16 array of bfloat16 bits: the header then
    carries ``'<u2'`` (readable by any NumPy) and the caller marks the encoded value
    with ``"dtype": "bfloat16"``.
    """

    arr = np.asarray(array)
    if arr.dtype.kind not in _ALLOWED_KINDS:
        raise CodecError(f"cannot write dtype {arr.dtype} as .npy without pickle; convert to a numeric array")
    if dtype == BFLOAT16 and arr.dtype != np.uint16:
        raise CodecError("bfloat16 arrays must be given as uint16 bits")
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not np.little_endian):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if not arr.flags.c_contiguous:  # (np.ascontiguousarray would turn 0-d into 1-d)
        arr = arr.copy(order="C")
    return _header_bytes(arr.dtype.str, tuple(int(d) for d in arr.shape)), arr


def encode_npy(array: np.ndarray, dtype: str | None = None) -> bytes:
    """Encode an array as one .npy file (version 1, C order, little-endian)."""

    header, arr = npy_parts(array, dtype)
    return header + arr.tobytes(order="C")


__all__ = ["BFLOAT16", "NpyArray", "decode_npy", "encode_npy", "npy_parts"]
