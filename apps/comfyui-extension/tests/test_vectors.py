"""Every shared test vector of @comfy-remote/protocol decodes to the numbers the TS codec gets."""

from __future__ import annotations

import base64
import json
import os

import numpy as np
import pytest

from comfy_remote.codec import decode_value
from comfy_remote.errors import CodecError
from comfy_remote.npy import decode_npy
from conftest import REPO_DIR, as_np

VECTORS = os.path.join(REPO_DIR, "packages", "protocol", "vectors")
MANIFEST = os.path.join(VECTORS, "vectors.json")


def _manifest() -> dict:
    with open(MANIFEST, encoding="utf-8") as fh:
        return json.load(fh)


def _numbers(values, dtype):
    if dtype in ("int64", "uint64"):
        return [int(v) for v in values]
    return values


def test_manifest_is_present_and_not_empty():
    assert os.path.isfile(MANIFEST), f"{MANIFEST} is missing: build packages/protocol vectors"
    data = _manifest()
    assert data["format"] == "comfy-remote-vectors"
    assert len(data["npy"]) >= 10 and len(data["values"]) >= 5


def _cases(section):
    return [(x["name"], x) for x in _manifest().get(section, [])] if os.path.isfile(MANIFEST) else []


@pytest.mark.parametrize(("name", "case"), _cases("npy"))
def test_npy_vector(name, case):
    with open(os.path.join(VECTORS, case["file"]), "rb") as fh:
        npy = decode_npy(fh.read())
    assert list(npy.array.shape) == case["shape"]
    assert str(npy.array.dtype) == case["dtype"]
    flat = npy.array.ravel().tolist()
    assert flat == _numbers(case["values"], case["dtype"])
    if "bits" in case:
        assert npy.array.view(np.uint16).ravel().tolist() == case["bits"]
    if case.get("view") == "bfloat16":
        widened = (npy.array.astype(np.uint32) << 16).view(np.float32)
        assert widened.ravel().tolist() == case["view_values"]


@pytest.mark.parametrize(("name", "case"), _cases("npy_reject"))
def test_npy_reject_vector(name, case):
    with open(os.path.join(VECTORS, case["file"]), "rb") as fh:
        raw = fh.read()
    with pytest.raises(CodecError) as info:
        decode_npy(raw)
    assert info.value.code == case["code"]


def _check(value, expected, where):
    kind = expected["kind"]
    if kind == "json":
        assert value == expected["value"], where
    elif kind == "ndarray":
        arr = as_np(value)
        assert list(arr.shape) == expected["shape"], where
        if expected.get("view") == "bfloat16" or expected["dtype"] == "bfloat16":
            # without torch, bfloat16 decodes to float32 holding the same numbers
            bits = (np.asarray(expected["values"], dtype=np.uint32) << 16).view(np.float32)
            assert arr.astype(np.float32).ravel().tolist() == bits.tolist(), where
            return
        exp = _numbers(expected["values"], expected["dtype"])
        if "tolerance" in expected:
            assert np.allclose(arr.ravel(), exp, atol=expected["tolerance"]), where
        else:
            assert arr.ravel().tolist() == exp, where
    elif kind == "object":
        assert set(value) == set(expected["items"]), where
        for key, item in expected["items"].items():
            _check(value[key], item, f"{where}.{key}")
    elif kind == "list":
        assert len(value) == len(expected["items"]), where
        for i, item in enumerate(expected["items"]):
            _check(value[i], item, f"{where}[{i}]")
    else:
        raise AssertionError(f"unknown expected kind {kind}")


@pytest.mark.parametrize(("name", "case"), _cases("values"))
def test_value_vector(name, case, monkeypatch):
    monkeypatch.delenv("COMFY_REMOTE_ALLOW_PICKLE", raising=False)
    expected = case["expected"]
    if expected["kind"] == "error":
        with pytest.raises(CodecError) as info:
            decode_value(case["encoded"])
        assert info.value.code == expected["code"]
        return
    _check(decode_value(case["encoded"]), expected, name)


@pytest.mark.parametrize(("name", "case"), _cases("values_reject"))
def test_value_reject_vector(name, case):
    with pytest.raises(CodecError) as info:
        decode_value(case["encoded"])
    assert info.value.code == case["code"]


def test_pickle_vector_decodes_after_opt_in():
    for case in _manifest()["values"]:
        if case["encoded"]["encoding"] == "base64+pickle":
            import pickle

            expected = pickle.loads(base64.b64decode(case["encoded"]["data"]))
            assert decode_value(case["encoded"], allow_pickle=True) == expected
