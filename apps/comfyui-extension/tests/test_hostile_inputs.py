"""Hostile values against the node pack's decoders (issue 14, defects 2 and 6): every failure is a
coded ``CodecError``, limits are checked before memory is allocated, and PNG filters are vectorised."""

from __future__ import annotations

import base64
import random
import struct
import zlib

import numpy as np
import pytest

from comfy_remote.codec import decode_value
from comfy_remote.errors import CodecError
from comfy_remote.npy import NPY_MAX_HEADER_BYTES, decode_npy, encode_npy
from comfy_remote.png import PNG_MAX_PIXELS, SIGNATURE, _chunk, decode_png, encode_png


def _png(width: int, height: int, ctype: int, rows: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, ctype, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows, 6)) + _chunk(b"IEND", b"")


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _filter_rows(pixels: np.ndarray, ftypes: list[int]) -> bytes:
    """The PNG encoder side of the five filters (spec section 9), written plainly as a reference."""

    height, width, bpp = pixels.shape
    flat = pixels.reshape(height, width * bpp).astype(int)
    out = bytearray()
    for y, ftype in enumerate(ftypes):
        out.append(ftype)
        for i in range(width * bpp):
            a = flat[y, i - bpp] if i >= bpp else 0
            b = flat[y - 1, i] if y else 0
            c = flat[y - 1, i - bpp] if y and i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, _paeth(a, b, c)][ftype]
            out.append((flat[y, i] - pred) % 256)
    return bytes(out)


@pytest.mark.parametrize("channels, ctype", [(1, 0), (2, 4), (3, 2), (4, 6)])
def test_png_decoder_paeth_and_average_filters_are_vectorised_and_exact(channels, ctype):
    # Defect 2: Average/Paeth rows were unfiltered byte by byte in Python (~110 s at 8k x 8k).
    rng = random.Random(channels)
    for height, width in [(1, 1), (1, 9), (9, 1), (7, 13), (16, 5)]:
        pixels = np.array(
            [[[rng.randrange(256) for _ in range(channels)] for _ in range(width)] for _ in range(height)],
            dtype=np.uint8,
        )
        ftypes = [rng.randrange(5) for _ in range(height)]
        decoded = decode_png(_png(width, height, ctype, _filter_rows(pixels, ftypes)))
        assert np.array_equal(decoded, pixels), (height, width, ftypes)


def test_png_decoder_pixel_limit_refuses_a_bomb_before_inflating():
    # Defect 2: a 389 KB PNG claiming 20000 x 20000 decoded to 1.9 GB. The IDAT here is not even
    # valid zlib: the decoder must refuse on the IHDR alone, before touching it.
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    bomb = SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"\x00" * 64) + _chunk(b"IEND", b"")
    with pytest.raises(CodecError, match=f"above the {PNG_MAX_PIXELS}-pixel limit") as info:
        decode_png(bomb)
    assert info.value.code == "PNG_INVALID"
    ev = {"type": "IMAGE", "encoding": "png", "data": base64.b64encode(bomb).decode()}
    with pytest.raises(CodecError, match="pixel limit"):
        decode_value(ev)


def test_png_decoder_total_bytes_cap_on_the_decoded_batch(monkeypatch):
    # Defect 2: each PNG under the pixel cap, but a list of them over the decoded-bytes budget.
    image = base64.b64encode(encode_png(np.zeros((64, 64, 3), np.uint8))).decode()
    one = {"type": "IMAGE", "encoding": "png", "data": image}
    many = {"type": "*", "encoding": "list", "data": [one] * 5}
    monkeypatch.setenv("COMFY_REMOTE_MAX_DECODED_BYTES", str(64 * 64 * 3 * 4 * 4))
    assert len(decode_value({"type": "*", "encoding": "list", "data": [one] * 4})) == 4
    with pytest.raises(CodecError, match="COMFY_REMOTE_MAX_DECODED_BYTES") as info:
        decode_value(many)
    assert info.value.code == "DECODED_TOO_LARGE"


def test_png_decoder_truncated_and_corrupt_streams_are_coded():
    good = encode_png(np.zeros((8, 8, 3), np.uint8))
    for bad in (good[:20], good[:40], good[:-20], SIGNATURE + b"\x00" * 40):
        with pytest.raises(CodecError) as info:
            decode_png(bad)
        assert info.value.code == "PNG_INVALID"


def _npy(header: str, payload: bytes = b"", major: int = 1) -> bytes:
    text = header.encode("latin1")
    size = struct.pack("<H", len(text)) if major == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([major, 0]) + size + text + payload


ODD_HEADERS = [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (True, 2), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (10**30,), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': [2], }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': None, }",
    "{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,), }",
    "{'descr': 7, 'fortran_order': False, 'shape': (1,), }",
    "{'descr': '<f99999999999999999999', 'fortran_order': False, 'shape': (1,), }",
    "{'descr': 'S999999999999', 'fortran_order': False, 'shape': (1,), }",
    "{'descr': 'x', 'fortran_order': False, 'shape': (1,), }",
    "{[1]: 2}",
    "[" * 5000 + "]" * 5000,
    "(" * 100000,
    "{'descr': '<f4', " + "'a': {" * 3000 + "}" * 3000 + "}",
]


@pytest.mark.parametrize("header", ODD_HEADERS, ids=range(len(ODD_HEADERS)))
def test_npy_decoder_odd_headers_are_always_coded_codec_errors(header):
    # Defect 6: OverflowError, TypeError, RecursionError, MemoryError escaped on such headers.
    major = 1 if len(header) < 0xFFFF else 2
    with pytest.raises(CodecError) as info:
        decode_npy(_npy(header, b"\x00" * 64, major))
    assert info.value.code.startswith("NPY_")


def test_npy_decoder_header_size_cap():
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }" + " " * NPY_MAX_HEADER_BYTES + "\n"
    with pytest.raises(CodecError, match="byte limit") as info:
        decode_npy(_npy(header, b"\x00" * 4, 2))
    assert info.value.code == "NPY_BAD_HEADER"


def test_npy_decoder_mutated_files_raise_only_codec_errors():
    rng = random.Random(14)
    valid = encode_npy(np.arange(6, dtype=np.float32).reshape(2, 3))
    junk = ["(", ")", ",", "'", "{", "}", "-1", "True", "9" * 25, "\x00", "\\", "<", "O", ":"]
    for _ in range(2000):
        data = bytearray(valid)
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(8, 80)
            piece = rng.choice(junk).encode("latin1")
            data[at : at + len(piece)] = piece
        try:
            decode_npy(bytes(data))
        except CodecError as exc:
            assert exc.code.startswith("NPY_") or exc.code == "BAD_VALUE"


@pytest.mark.parametrize("data", ["!!!!", "QUJD!", "QQ==QUJD", "Q"])
def test_invalid_base64_in_an_npy_value_is_refused_not_zero_bytes(data):
    # Issue 14 defect 9: b64decode(validate=False) dropped the junk and decoded 0 bytes.
    with pytest.raises(CodecError) as info:
        decode_value({"type": "IMAGE", "encoding": "npy", "data": data})
    assert info.value.code == "BASE64_INVALID"


def test_base64_with_line_breaks_and_url_safe_alphabet_still_decodes():
    raw = encode_npy(np.arange(40, dtype=np.float32))
    text = base64.b64encode(raw).decode()
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    for variant in (text, wrapped, urlsafe):
        out = decode_value({"type": "*", "encoding": "npy", "data": variant})
        assert np.array_equal(np.asarray(out), np.arange(40, dtype=np.float32))
