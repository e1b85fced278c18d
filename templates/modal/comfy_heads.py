"""Up-front checks of binary inputs (npy/png, also inside object/list values), before a job exists.

As the mock worker (protocol parseEncodedValue + binary-heads.ts + its strict decode of larger texts):
base64 text of any size must be valid base64, and the first bytes of every npy/png payload must be a readable .npy header (plain
little-endian C-order numeric dtype, data as long as the shape says) or a PNG signature and IHDR within
the pixel limit. A broken value is a 400 BAD_REQUEST naming the field, not a job that fails later at
the Remote Input. Reads only the head of each payload: no numpy, no full decode.
"""

import ast
import base64
import binascii
import json
import re
import struct

from comfy_wire import WireError

BASE64_PARSE_CHECK_MAX = 1024 * 1024  # texts up to this size: the exact byte count is taken from the text
HEAD_BYTES = 64 * 1024 + 16  # any accepted .npy header (64 KiB + preamble) and a PNG's IHDR
NPY_MAX_HEADER_BYTES = 64 * 1024
PNG_MAX_PIXELS = 8192 * 8192
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/\-_\s]*={0,2}\s*")
_NPY_SIZES = {"f2": 2, "f4": 4, "f8": 8, "i1": 1, "i2": 2, "i4": 4, "i8": 8, "u1": 1, "u2": 2, "u4": 4, "u8": 8, "b1": 1, "bfloat16": 2}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _bad(field, message):
    return WireError("BAD_REQUEST", "%s: %s" % (field, message), details={"field": field})


def is_base64(text):
    """Standard or URL-safe base64 (whitespace allowed), as the TypeScript isBase64 (linear, C speed)."""
    if not _BASE64_TEXT.fullmatch(text):
        return False
    return (len(text) - sum(text.count(c) for c in " \t\r\n\f\v=")) % 4 != 1


def check_base64(value, field):
    """BAD_REQUEST naming ``<field>.data`` when a binary value's base64 text is not base64, at any size
    (the mock worker checks texts up to 1 MiB when parsing and longer ones when it decodes them, both
    before a job exists; a 48 MiB payload's text takes ~0.1 s here)."""
    data = value.get("data")
    if isinstance(data, str) and not is_base64(data):
        raise _bad(
            "%s.data" % field,
            "not valid base64; send the %s bytes base64-encoded (or as a multipart part)." % value.get("encoding"),
        )


def _head(data):
    """(first bytes, total size) of a payload: bytes, or base64 text (only its head is decoded)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data[:HEAD_BYTES]), len(data)
    if isinstance(data, str):
        chars = -(-HEAD_BYTES // 3) * 4
        text = re.sub(r"\s", "", data[: chars + 64]).replace("-", "+").replace("_", "/")[:chars]
        try:
            head = base64.b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return None
        stripped = len(re.sub(r"[\s=]", "", data)) if len(data) <= BASE64_PARSE_CHECK_MAX else len(data.rstrip().rstrip("="))
        return head, stripped * 3 // 4
    return None


def _npy_problem(head, size):
    if len(head) < 10 or head[:6] != b"\x93NUMPY":
        return "Not a .npy file (magic \\x93NUMPY missing); send the bytes written by numpy.save."
    major = head[6]
    if major == 1:
        (hlen,), start = struct.unpack("<H", head[8:10]), 10
    elif major in (2, 3):
        if len(head) < 12:
            return "The .npy header is truncated."
        (hlen,), start = struct.unpack("<I", head[8:12]), 12
    else:
        return "Unsupported .npy format version %d; use version 1, 2 or 3." % major
    if hlen > NPY_MAX_HEADER_BYTES:
        return "The .npy header is %d bytes, over the %d-byte limit; send the file numpy.save writes for a plain array." % (hlen, NPY_MAX_HEADER_BYTES)
    end = start + hlen
    if end > len(head) or end > size:
        return "The .npy header is truncated."
    try:
        header = ast.literal_eval(head[start:end].decode("utf-8" if major == 3 else "latin1").strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or not isinstance(header.get("descr"), str) or not isinstance(header.get("fortran_order"), bool):
        return "The npy header is not a dict with descr, fortran_order and shape."
    shape = header.get("shape")
    if not isinstance(shape, tuple) or not all(type(d) is int and d >= 0 for d in shape):
        return "The npy shape must be a tuple of non-negative integers."
    descr = header["descr"]
    order, code = (descr[0], descr[1:]) if descr[:1] in ("<", ">", "|", "=") else ("", descr)
    if code not in _NPY_SIZES:
        what = "object arrays (they need pickle)" if code.startswith("O") else 'dtype "%s"' % descr
        return "npy %s cannot be decoded; send float32/float16/uint8/int32/int64/bool." % what
    if order == ">" and _NPY_SIZES[code] > 1:
        return "Big-endian npy (%s) is not supported; save little-endian (arr.astype('<%s'))." % (descr, code)
    if header["fortran_order"] and len([d for d in shape if d > 1]) > 1:
        return "Fortran-order npy is not supported; save a C-order array (np.ascontiguousarray)."
    need = _NPY_SIZES[code]
    for d in shape:
        need *= d
    if end + need > size:
        return "The .npy data is truncated: shape %s needs %d bytes, got %d." % (json.dumps(list(shape), separators=(",", ":")), need, size - end)
    return None


def _png_problem(head):
    if len(head) < 24 or head[:8] != _PNG_SIGNATURE:
        return "The value is not a readable PNG file; send PNG bytes (base64 in JSON)."
    width, height = struct.unpack(">II", head[16:24])
    if width * height > PNG_MAX_PIXELS:
        return "The PNG is %dx%d, above the %d-pixel limit; send npy instead." % (width, height, PNG_MAX_PIXELS)
    return None


def check_value(value, field):
    """Checks one encoded value (recursing into object/list): base64 text, npy/png heads."""
    if not isinstance(value, dict):
        return
    encoding, data = value.get("encoding"), value.get("data")
    if encoding == "object" and isinstance(data, dict):
        for key, inner in data.items():
            check_value(inner, "%s.data.%s" % (field, key))
        return
    if encoding == "list" and isinstance(data, list):
        for i, inner in enumerate(data):
            check_value(inner, "%s.data[%d]" % (field, i))
        return
    if encoding not in ("npy", "png", "file"):
        return
    check_base64(value, field)
    if encoding == "file":
        return
    found = _head(data)
    if found is None:
        return
    problem = _npy_problem(*found) if encoding == "npy" else _png_problem(found[0])
    if problem:
        raise _bad(field, problem)


def check_inputs(inputs):
    """Every input of a run request ({name: encoded value}); the first problem is a 400 WireError."""
    for name, value in inputs.items():
        check_value(value, "inputs.%s" % name)
