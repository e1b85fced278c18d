"""Generate the shared codec test vectors with real NumPy.

Run from anywhere:  python3 packages/protocol/vectors/generate.py
Writes npy/*.npy and vectors.json next to this script (both are committed).
Deterministic: running it twice gives the same files. See README.md for the format.
"""

import base64
import io
import json
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NPY_DIR = HERE / "npy"


def npy_bytes(arr, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, arr, allow_pickle=arr.dtype == object)
    else:
        np.lib.format.write_array(buf, arr, version=version, allow_pickle=False)
    return buf.getvalue()


def flat_values(arr):
    """C-order flat list as JSON: int64/uint64 as decimal strings, bool as true/false."""
    flat = np.ascontiguousarray(arr).ravel()
    if arr.dtype in (np.int64, np.uint64):
        return [str(int(v)) for v in flat]
    if arr.dtype == np.bool_:
        return [bool(v) for v in flat]
    if arr.dtype.kind == "f":
        return [float(v) for v in flat]
    return [int(v) for v in flat]


def bf16_bits(values):
    f32 = np.asarray(values, dtype=np.float32)
    return (f32.view(np.uint32) >> 16).astype(np.uint16)


def png_bytes(pixels):
    """Minimal 8-bit PNG writer (grey, RGB or RGBA) for the vectors only; pixels: uint8 [H, W, C]."""
    h, w, c = pixels.shape
    color = {1: 0, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def ndarray_expect(arr, dtype=None, view=None, tolerance=None):
    out = {"kind": "ndarray", "dtype": dtype or str(arr.dtype), "shape": list(arr.shape), "values": flat_values(arr)}
    if view:
        out["view"] = view
    if tolerance is not None:
        out["tolerance"] = tolerance
    return out


def main():
    NPY_DIR.mkdir(exist_ok=True)
    rng = np.random.default_rng(1234)
    npy = []
    rejects = []

    def add(name, arr, note, version=None, extra=None):
        data = npy_bytes(arr, version)
        (NPY_DIR / f"{name}.npy").write_bytes(data)
        entry = {"name": name, "file": f"npy/{name}.npy", "note": note, "dtype": str(arr.dtype), "shape": list(arr.shape)}
        entry["values"] = flat_values(arr)
        if arr.dtype == np.float16:
            entry["bits"] = [int(v) for v in arr.ravel().view(np.uint16)]
        entry.update(extra or {})
        npy.append(entry)

    def reject(name, data, code, note):
        (NPY_DIR / f"{name}.npy").write_bytes(data)
        rejects.append({"name": name, "file": f"npy/{name}.npy", "code": code, "note": note})

    image = rng.random((1, 2, 3, 3), dtype=np.float32)
    add("float32_4d", image, "IMAGE-like [B,H,W,C] float32")
    add("float32_0d", np.array(3.5, dtype=np.float32), "0-d scalar")
    add("float32_1d", np.array([0.0, -1.5, 1e-8, 3.4e38, -0.0], dtype=np.float32), "1-d incl. extremes")
    add("float32_empty", np.zeros((0, 3), dtype=np.float32), "empty 2-d")
    add("float64_1d", np.array([1 / 3, -2.5, 1e300], dtype=np.float64), "float64")
    add("float16_2d", np.array([[0.5, -2.0, 65504.0], [6.1e-5, 0.0, 1.0009765625]], dtype=np.float16), "float16: data are raw half bits")
    bf = np.array([1.0, -2.5, 0.15625, 3.0e38], dtype=np.float32)
    bits = bf16_bits(bf)
    add(
        "bfloat16_as_uint16",
        bits,
        "bfloat16 bits stored as uint16; the encoded value says dtype=bfloat16",
        extra={"view": "bfloat16", "view_values": [float(v) for v in (bits.astype(np.uint32) << 16).view(np.float32)]},
    )
    add("uint8_3d", rng.integers(0, 256, (2, 2, 3), dtype=np.uint8), "uint8")
    add("int8_1d", np.array([-128, 0, 127], dtype=np.int8), "int8")
    add("int16_1d", np.array([-32768, 1, 32767], dtype=np.int16), "int16")
    add("uint16_1d", np.array([0, 1, 65535], dtype=np.uint16), "uint16")
    add("int32_2d", np.array([[-(2**31), 0, 2**31 - 1]], dtype=np.int32), "int32")
    add("uint32_1d", np.array([0, 2**32 - 1], dtype=np.uint32), "uint32")
    add("int64_1d", np.array([-(2**63), -1, 0, 2**53 + 1, 2**63 - 1], dtype=np.int64), "int64 (values as strings)")
    add("uint64_1d", np.array([0, 2**64 - 1], dtype=np.uint64), "uint64 (values as strings)")
    add("bool_2d", np.array([[True, False], [False, True]]), "bool")
    add("float32_v2", np.arange(6, dtype=np.float32).reshape(2, 3), "format version 2.0", version=(2, 0))
    add("float32_v3", np.arange(4, dtype=np.float32), "format version 3.0 (utf-8 header)", version=(3, 0))
    add("fortran_1d", np.asfortranarray(np.arange(3, dtype=np.int32)), "1-d arrays are written with fortran_order False")

    reject("reject_fortran", npy_bytes(np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))), "NPY_FORTRAN_ORDER", "Fortran order 2x3")
    reject("reject_big_endian", npy_bytes(np.arange(3, dtype=">f4")), "NPY_BIG_ENDIAN", "big-endian float32")
    reject("reject_object", npy_bytes(np.array([{"a": 1}, None], dtype=object)), "NPY_UNSUPPORTED_DTYPE", "object dtype (pickle)")
    reject("reject_complex", npy_bytes(np.array([1 + 2j], dtype=np.complex64)), "NPY_UNSUPPORTED_DTYPE", "complex64")
    reject("reject_structured", npy_bytes(np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")])), "NPY_UNSUPPORTED_DTYPE", "structured dtype")
    reject("reject_truncated", npy_bytes(np.arange(10, dtype=np.float32))[:-4], "NPY_TRUNCATED", "last element cut off")
    reject("reject_bad_magic", b"NOTNUMPY" + b"\x00" * 8, "NPY_BAD_HEADER", "not an npy file")

    # encoded values of every encoding
    values = []
    img = (np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 14).astype(np.uint8)
    mask = np.array([[0, 128, 255], [64, 32, 16]], dtype=np.uint8)
    latent = rng.standard_normal((1, 4, 2, 2), dtype=np.float32)
    wave = rng.standard_normal((1, 2, 4), dtype=np.float32)
    values.append({"name": "json_int", "encoded": {"type": "INT", "encoding": "json", "data": 42}, "expected": {"kind": "json", "value": 42}})
    values.append({"name": "json_object", "encoded": {"type": "*", "encoding": "json", "data": {"a": [1, 2.5, "x", None, True]}}, "expected": {"kind": "json", "value": {"a": [1, 2.5, "x", None, True]}}})
    values.append({"name": "identity_string", "encoded": {"type": "STRING", "encoding": "identity", "data": "hello"}, "expected": {"kind": "json", "value": "hello"}})
    values.append({"name": "npy_image", "encoded": {"type": "IMAGE", "encoding": "npy", "data": b64(npy_bytes(image))}, "expected": ndarray_expect(image)})
    values.append({"name": "npy_bfloat16", "encoded": {"type": "*", "encoding": "npy", "dtype": "bfloat16", "data": b64(npy_bytes(bits))}, "expected": ndarray_expect(bits, dtype="bfloat16", view="bfloat16")})
    img_f = (img.astype(np.float32) / 255.0)[None]
    values.append({"name": "png_image", "encoded": {"type": "IMAGE", "encoding": "png", "data": b64(png_bytes(img))}, "expected": ndarray_expect(img_f, tolerance=1e-6)})
    mask_f = (mask.astype(np.float32) / 255.0)[None]
    values.append({"name": "png_mask", "encoded": {"type": "MASK", "encoding": "png", "data": b64(png_bytes(mask[:, :, None]))}, "expected": ndarray_expect(mask_f, tolerance=1e-6)})
    batch = np.concatenate([img, img[::-1]], axis=0)
    batch_f = (np.stack([img, img[::-1]]).astype(np.float32) / 255.0)
    values.append({"name": "png_image_batch2", "encoded": {"type": "IMAGE", "encoding": "png", "batch": 2, "data": b64(png_bytes(batch))}, "expected": ndarray_expect(batch_f, tolerance=1e-6)})
    values.append({
        "name": "object_latent",
        "encoded": {"type": "LATENT", "encoding": "object", "data": {"samples": {"type": "*", "encoding": "npy", "data": b64(npy_bytes(latent))}}},
        "expected": {"kind": "object", "items": {"samples": ndarray_expect(latent)}},
    })
    values.append({
        "name": "object_audio",
        "encoded": {"type": "AUDIO", "encoding": "object", "data": {
            "waveform": {"type": "*", "encoding": "npy", "data": b64(npy_bytes(wave))},
            "sample_rate": {"type": "INT", "encoding": "json", "data": 44100},
        }},
        "expected": {"kind": "object", "items": {"waveform": ndarray_expect(wave), "sample_rate": {"kind": "json", "value": 44100}}},
    })
    values.append({
        "name": "list_mixed",
        "encoded": {"type": "*", "encoding": "list", "data": [
            {"type": "INT", "encoding": "json", "data": 1},
            {"type": "*", "encoding": "npy", "data": b64(npy_bytes(np.array([True, False])))},
            {"type": "STRING", "encoding": "identity", "data": "two"},
        ]},
        "expected": {"kind": "list", "items": [
            {"kind": "json", "value": 1},
            ndarray_expect(np.array([True, False])),
            {"kind": "json", "value": "two"},
        ]},
    })
    pickled = b64(pickle.dumps({"a": 1, "b": [1, 2]}, protocol=4))
    values.append({
        "name": "pickle_refused",
        "encoded": {"type": "*", "encoding": "base64+pickle", "data": pickled},
        "expected": {"kind": "error", "code": "PICKLE_REFUSED"},
        "expected_with_opt_in": {"kind": "json", "value": {"a": 1, "b": [1, 2]}},
    })
    value_rejects = [
        {"name": "missing_encoding", "encoded": {"type": "INT", "data": 1}, "code": "BAD_REQUEST"},
        {"name": "missing_data", "encoded": {"type": "INT", "encoding": "json"}, "code": "BAD_REQUEST"},
        {"name": "unknown_encoding", "encoded": {"type": "INT", "encoding": "msgpack", "data": 1}, "code": "UNKNOWN_ENCODING"},
        {"name": "npy_not_npy", "encoded": {"type": "*", "encoding": "npy", "data": b64(b"hello world, not npy")}, "code": "NPY_BAD_HEADER"},
        {"name": "png_not_png", "encoded": {"type": "IMAGE", "encoding": "png", "data": b64(b"not a png file")}, "code": "PNG_INVALID"},
        {"name": "object_not_map", "encoded": {"type": "LATENT", "encoding": "object", "data": [1]}, "code": "BAD_VALUE"},
        {"name": "list_not_array", "encoded": {"type": "*", "encoding": "list", "data": {"a": 1}}, "code": "BAD_VALUE"},
    ]
    manifest = {
        "format": "comfy-remote-vectors",
        "version": 1,
        "generator": f"numpy {np.__version__}",
        "npy": npy,
        "npy_reject": rejects,
        "values": values,
        "values_reject": value_rejects,
    }
    (HERE / "vectors.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(npy)} npy vectors, {len(rejects)} npy rejects, {len(values)} values, {len(value_rejects)} value rejects")


if __name__ == "__main__":
    main()
