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
# Largest PNG (width * height) decoded: the TypeScript codec's PNG_MAX_PIXELS (8192 x 8192).
PNG_MAX_PIXELS = 8192 * 8192


def png_size(data: bytes | bytearray | memoryview) -> tuple[int, int, int]:
    """``(width, height, channels)`` from the IHDR chunk, refusing images over ``PNG_MAX_PIXELS``
    before anything is decompressed (a 389 KB PNG can claim 20000 x 20000 = 1.9 GB of pixels).
    ``channels`` is what the decoded array will hold (an indexed PNG counts as RGBA)."""

    head = bytes(data[:33])
    if not head.startswith(SIGNATURE):
        raise _err("not a PNG: the bytes do not start with the PNG signature")
    if len(head) < 33 or head[12:16] != b"IHDR":
        raise _err("PNG has no IHDR chunk (truncated or not a PNG)")
    width, height, _depth, ctype = struct.unpack(">IIBB", head[16:26])
    if width * height > PNG_MAX_PIXELS:
        raise _err(f"the PNG is {width}x{height}, above the {PNG_MAX_PIXELS}-pixel limit; send npy instead")
    return width, height, _CHANNELS.get(ctype, 4)


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


def _unfilter_rows(filtered: np.ndarray, ftypes: np.ndarray, bpp: int) -> np.ndarray:
    """Rows filtered with None / Sub / Up only: one vectorised pass per row."""

    height, stride = filtered.shape
    out = np.empty((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        line, ftype = filtered[y], ftypes[y]
        if ftype == 0:
            out[y] = line
        elif ftype == 1:
            out[y] = line.reshape(-1, bpp).cumsum(axis=0, dtype=np.uint8).reshape(-1)
        else:
            np.add(line, prev, out=out[y])
        prev = out[y]
    return out


def _unfilter_wavefront(filtered: np.ndarray, ftypes: np.ndarray, bpp: int) -> np.ndarray:
    """Any mix of the five filters, vectorised along anti-diagonals.

    Pixel (y, x) depends on its left, upper and upper-left neighbours only, so every pixel with
    y + x = t is computed at once from the two previous diagonals: height + width - 1 NumPy steps on
    contiguous diagonal buffers (Average and Paeth rows used to cost ~110 s at 8k x 8k in Python).
    """

    height, stride = filtered.shape
    width = stride // bpp
    raw = np.ascontiguousarray(filtered).reshape(-1, bpp)
    out = np.empty((height * width, bpp), dtype=np.uint8)
    # Diagonal t as int16, indexed y + 1 (slot 0 and never-written slots are the zeros outside the image).
    diag = [np.zeros((height + 1, bpp), dtype=np.int16) for _ in range(3)]
    masks = [(k, (ftypes == k)[:, None]) for k in (1, 2, 3, 4) if (ftypes == k).any()]
    for t in range(height + width - 1):
        y0, y1 = max(0, t - width + 1), min(height - 1, t)
        n, x0 = y1 - y0 + 1, t - y0
        cur, prev1, prev2 = diag[t % 3], diag[(t - 1) % 3], diag[(t - 2) % 3]
        a, b, c = prev1[y0 + 1 : y1 + 2], prev1[y0 : y1 + 1], prev2[y0 : y1 + 1]
        pred = np.zeros((n, bpp), dtype=np.int16)
        for kind, mask in masks:
            rows = mask[y0 : y1 + 1]
            if kind == 1:
                np.copyto(pred, a, where=rows)
            elif kind == 2:
                np.copyto(pred, b, where=rows)
            elif kind == 3:
                np.copyto(pred, (a + b) >> 1, where=rows)
            else:
                pa, pb, pc = np.abs(b - c), np.abs(a - c), np.abs(a + b - 2 * c)
                np.copyto(pred, np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c)), where=rows)
        pixels = slice(y0 * width + x0, y0 * width + x0 + (n - 1) * (width - 1) + 1, max(width - 1, 1))
        value = (raw[pixels] + pred) & 0xFF
        cur[y0 + 1 : y1 + 2] = value
        out[pixels] = value
    return out.reshape(height, stride)


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    rows = np.frombuffer(raw, dtype=np.uint8, count=height * (stride + 1)).reshape(height, stride + 1)
    ftypes = rows[:, 0]
    if ftypes.size and int(ftypes.max()) > 4:
        bad = int(ftypes[ftypes > 4][0])
        raise _err(f"PNG row filter {bad} is invalid")
    filtered = rows[:, 1:]
    if height == 0 or stride == 0:
        return np.zeros((height, stride), dtype=np.uint8)
    if np.isin(ftypes, (3, 4)).any():
        return _unfilter_wavefront(filtered, ftypes, bpp)
    return _unfilter_rows(filtered, ftypes, bpp)


def decode_png(data: bytes) -> np.ndarray:
    """Decode PNG bytes to a ``[H, W, C]`` uint8 array."""

    data = bytes(data)
    png_size(data)
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
    stride = width * channels
    try:  # never inflate more than the image needs (the pixel cap bounds it)
        raw = zlib.decompressobj().decompress(b"".join(idat), height * (stride + 1))
    except zlib.error as exc:
        raise _err(f"PNG image data is corrupt: {exc}") from exc
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


__all__ = ["PNG_MAX_PIXELS", "decode_png", "encode_png", "png_size"]
