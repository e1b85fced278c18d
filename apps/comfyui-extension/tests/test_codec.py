"""Codec: Python values <-> encoded values (NumPy only; torch cases are in test_torch_codec.py)."""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle

import numpy as np
import pytest

from comfy_remote.codec import decode_value, encode_value, infer_type, normalize_encoded
from comfy_remote.errors import CodecError, PickleRefusedError, is_comfy_remote_error
from comfy_remote.files import WorkDir
from comfy_remote.npy import decode_npy, encode_npy
from comfy_remote.png import decode_png, encode_png
from conftest import as_np

DTYPES = ["float32", "float16", "float64", "uint8", "int8", "int16", "uint16", "int32", "int64", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (1, 4, 5, 3)])
def test_npy_round_trip_is_bit_exact(dtype, shape):
    rng = np.random.default_rng(7)
    arr = (rng.random(shape) * 100).astype(dtype)
    raw = encode_npy(arr)
    assert raw[:6] == b"\x93NUMPY"
    assert (len(raw) - len(raw) % 64) % 64 == 0  # header padded to 64 bytes
    back = decode_npy(raw).array
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert back.tobytes() == arr.tobytes()
    # NumPy itself reads what we write
    import io

    assert np.load(io.BytesIO(raw), allow_pickle=False).tobytes() == arr.tobytes()


def test_npy_from_numpy_save_and_non_contiguous_input():
    import io

    arr = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2]  # not contiguous
    raw = encode_npy(arr)
    assert np.array_equal(decode_npy(raw).array, arr)
    buf = io.BytesIO()
    np.save(buf, arr.T.copy())
    assert np.array_equal(decode_npy(buf.getvalue()).array, arr.T)


def test_image_and_mask_shapes_are_kept_or_fixed():
    img = np.random.default_rng(1).random((2, 8, 6, 3), dtype=np.float32)
    ev = encode_value(img)
    assert ev["type"] == "IMAGE" and ev["encoding"] == "npy"
    out = as_np(decode_value(ev))
    assert out.shape == (2, 8, 6, 3) and out.tobytes() == img.tobytes()
    # a 3-D IMAGE gets a batch dimension
    assert decode_value(encode_value(img[0], "IMAGE")).shape == (1, 8, 6, 3)
    mask = np.ones((2, 8, 6), np.float32)
    ev = encode_value(mask, "MASK")
    assert decode_value(ev).shape == (2, 8, 6)
    # [B,H,W,1] and [H,W] masks come back [B,H,W]
    assert decode_value(encode_value(mask[..., None], "MASK")).shape == (2, 8, 6)
    assert decode_value(encode_value(mask[0], "MASK")).shape == (1, 8, 6)


def test_composites_travel_without_pickle():
    latent = {"samples": np.zeros((1, 4, 8, 8), np.float32), "batch_index": [0], "type": "sd"}
    ev = encode_value(latent)
    assert ev["type"] == "LATENT" and ev["encoding"] == "object"
    assert ev["data"]["samples"]["encoding"] == "npy" and ev["data"]["batch_index"]["encoding"] == "json"
    back = decode_value(json.loads(json.dumps(ev)))
    assert back["samples"].shape == (1, 4, 8, 8) and back["batch_index"] == [0] and back["type"] == "sd"

    audio = {"waveform": np.ones((1, 2, 16), np.float32), "sample_rate": 44100}
    assert encode_value(audio)["type"] == "AUDIO"
    assert decode_value(encode_value(audio))["sample_rate"] == 44100

    cond = [[np.ones((1, 77, 8), np.float32), {"pooled_output": np.ones((1, 8), np.float32), "strength": 0.5}]]
    ev = encode_value(cond)
    assert ev["type"] == "CONDITIONING" and ev["encoding"] == "list"
    back = decode_value(ev)
    assert back[0][0].shape == (1, 77, 8) and back[0][1]["strength"] == 0.5


@pytest.mark.parametrize(
    ("value", "type_"),
    [(True, "BOOLEAN"), (3, "INT"), (2.5, "FLOAT"), ("hi", "STRING"), ({"a": [1, None]}, "*"), (None, "*")],
)
def test_primitives_are_json(value, type_):
    ev = encode_value(value)
    assert ev == {"type": type_, "encoding": "json", "data": value}
    assert decode_value(ev) == value
    assert infer_type(value) == type_


def test_numpy_scalars_are_json():
    assert encode_value(np.float32(1.5)) == {"type": "FLOAT", "encoding": "json", "data": 1.5}
    assert encode_value(np.int64(7)) == {"type": "INT", "encoding": "json", "data": 7}
    assert encode_value(np.bool_(True)) == {"type": "BOOLEAN", "encoding": "json", "data": True}
    assert encode_value({"n": [np.int32(1)]})["encoding"] == "object"  # nested scalars get their own json value


def test_unencodable_values_are_refused_with_a_way_out():
    class Model:
        pass

    with pytest.raises(CodecError, match="allow_pickle"):
        encode_value({"model": Model()})
    ev = encode_value(Model.__name__, "STRING")
    assert ev["encoding"] == "json"


def test_pickle_is_refused_unless_opted_in(monkeypatch, caplog):
    monkeypatch.delenv("COMFY_REMOTE_ALLOW_PICKLE", raising=False)
    ev = {"type": "*", "encoding": "base64+pickle", "data": base64.b64encode(pickle.dumps({"a": 1})).decode()}
    with pytest.raises(PickleRefusedError) as info:
        decode_value(ev)
    assert info.value.code == "PICKLE_REFUSED"
    assert "allow_pickle" in str(info.value) and "COMFY_REMOTE_ALLOW_PICKLE=1" in str(info.value)
    assert is_comfy_remote_error(info.value)
    with caplog.at_level(logging.WARNING):
        assert decode_value(ev, allow_pickle=True) == {"a": 1}
    assert any("unpickling" in r.message for r in caplog.records)
    monkeypatch.setenv("COMFY_REMOTE_ALLOW_PICKLE", "1")
    assert decode_value(ev) == {"a": 1}


def test_lenient_reading_of_original_results():
    assert decode_value({"comfy_type": "STRING", "value": "x"}, lenient=True) == "x"
    with pytest.raises(PickleRefusedError):
        decode_value({"type": "*", "data": "gAR9lC4="}, lenient=True)
    with pytest.raises(CodecError) as info:
        normalize_encoded({"type": "INT", "data": 1})
    assert info.value.code == "BAD_REQUEST" and "encoding" in str(info.value)


def test_file_references_must_stay_inside_the_work_dir(tmp_path):
    arr = np.arange(4096, dtype=np.float32)
    with WorkDir() as work:
        ev = encode_value(arr, sink=work.sink, name="big")
        assert set(ev["data"]) == {"file"} and ev["data"]["file"].startswith(work.path)
        assert oct(os.stat(work.path).st_mode & 0o777) == "0o700"
        assert as_np(decode_value(ev, file_root=work.path)).tobytes() == arr.tobytes()
        with pytest.raises(CodecError, match="only accepted from the bridge"):
            decode_value(ev)
        outside = tmp_path / "x.npy"
        outside.write_bytes(encode_npy(arr))
        with pytest.raises(CodecError, match="outside the work dir"):
            decode_value({"type": "*", "encoding": "npy", "data": {"file": str(outside)}}, file_root=work.path)
        small = encode_value(np.arange(3, dtype=np.int32), sink=work.sink)
        assert isinstance(small["data"], str)  # small values stay inline
    assert not os.path.exists(work.path)


def test_png_codec_round_trip_and_batch():
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert np.array_equal(decode_png(encode_png(pixels)), pixels)
    gray = rng.integers(0, 256, (4, 4), dtype=np.uint8)
    assert np.array_equal(decode_png(encode_png(gray))[:, :, 0], gray)
    stacked = np.concatenate([pixels, pixels[::-1]], axis=0)
    ev = {"type": "IMAGE", "encoding": "png", "batch": 2, "data": base64.b64encode(encode_png(stacked)).decode()}
    out = as_np(decode_value(ev))
    assert out.shape == (2, 5, 7, 3)
    assert np.allclose(out[1] * 255, pixels[::-1])


def test_new_buffer_is_zeroed_writable_and_decodes_in_place():
    from comfy_remote.files import new_buffer

    arr = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)
    encoded = encode_value(arr, name="image")
    raw = base64.b64decode(encoded["data"])
    buf = new_buffer(len(raw))
    assert bytes(buf) == bytes(len(raw)) and not memoryview(buf).readonly
    memoryview(buf)[:] = raw
    decoded = decode_value({**encoded, "data": buf})
    assert np.array_equal(np.asarray(decoded), arr)
    assert bytes(new_buffer(0)) == b""
