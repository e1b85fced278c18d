"""8-bit PNG <-> uint8 arrays, pure Python + NumPy (PIL is used when present).

Only what the ``png`` encoding needs: 8-bit gray / gray+alpha / RGB / RGBA,
non-interlaced. Returns ``[H, W, C]`` uint8.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from .errors import CodecError


def _err(message: str) -> CodecError:
    return CodecError(message, code="PNG_INVALID")

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def _chunks(data: bytes):
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise _err("PNG is truncated")
        yield kind, body
        pos += 12 + length
        if kind == b"IEND":
            return


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    pos = 0
    for y in range(height):
        ftype = raw[pos]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=pos + 1)
        pos += stride + 1
        if ftype == 0:
            cur = line.copy()
        elif ftype == 1:
            cur = line.reshape(-1, bpp).astype(np.uint64).cumsum(axis=0).astype(np.uint8).reshape(-1)
        elif ftype == 2:
            cur = (line.astype(np.uint16) + prev).astype(np.uint8)
        elif ftype in (3, 4):
            cur = bytearray(stride)
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b = int(prev[i])
                if ftype == 3:
                    pred = (a + b) >> 1
                else:
                    pred = _paeth(a, b, int(prev[i - bpp]) if i >= bpp else 0)
                cur[i] = (line[i] + pred) & 0xFF
            cur = np.frombuffer(bytes(cur), dtype=np.uint8)
        else:
            raise _err(f"PNG row filter {ftype} is invalid")
        out[y] = cur
        prev = out[y]
    return out


def decode_png(data: bytes) -> np.ndarray:
    """Decode PNG bytes to a ``[H, W, C]`` uint8 array."""

    data = bytes(data)
    if not data.startswith(SIGNATURE):
        raise _err("not a PNG: the bytes do not start with the PNG signature")
    try:
        from PIL import Image  # ComfyUI always ships Pillow
        import io as _io

        try:
            img = Image.open(_io.BytesIO(data))
            img.load()
        except Exception as exc:
            raise _err(f"the value is not a readable PNG: {exc}") from exc
        if img.mode not in ("L", "LA", "RGB", "RGBA"):
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        arr = np.asarray(img)
        return arr[:, :, None] if arr.ndim == 2 else arr
    except ImportError:
        pass
    header = None
    idat = []
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    if header is None:
        raise _err("PNG has no IHDR chunk")
    width, height, depth, ctype, _comp, _filt, interlace = header
    if depth != 8 or ctype not in _CHANNELS or interlace != 0:
        raise _err(f"PNG kind (bit depth {depth}, color type {ctype}, interlace {interlace}) is not supported; send 8-bit non-interlaced PNG or npy")
    channels = _CHANNELS[ctype]
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise _err(f"PNG image data is corrupt: {exc}") from exc
    stride = width * channels
    if len(raw) < height * (stride + 1):
        raise _err("PNG image data is truncated")
    rows = _unfilter(raw, height, stride, channels)
    return rows.reshape(height, width, channels)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode ``[H, W]`` or ``[H, W, C]`` uint8 (C in 1..4) as PNG."""

    arr = np.asarray(pixels)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4) or arr.dtype != np.uint8:
        raise _err(f"PNG needs uint8 [H, W, C] with C in 1..4, got {arr.dtype} {arr.shape}")
    height, width, channels = arr.shape
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), arr.reshape(height, width * channels)], axis=1)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, ctype, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _chunk(b"IEND", b"")


__all__ = ["decode_png", "encode_png"]
