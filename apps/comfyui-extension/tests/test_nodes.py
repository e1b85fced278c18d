"""Remote Input / Output / Select behaviour and the registries (original helper semantics)."""

from __future__ import annotations

import json

import numpy as np
import comfy_v3
import pytest

from comfy_remote import registry
from comfy_remote.codec import decode_value, encode_value
from comfy_remote.errors import CodecError, RemoteInputMissingError
from conftest import as_np


@pytest.fixture(autouse=True)
def _clean_registry():
    registry.clear()
    yield
    registry.clear()


def _run(nodes, cls_name, node_id, **kwargs):
    cls = getattr(nodes, cls_name)
    clone = cls.PREPARE_CLASS_CLONE({comfy_v3.Hidden.unique_id: node_id}) if hasattr(cls, "PREPARE_CLASS_CLONE") else cls
    return clone.execute(**kwargs)


def test_registry_semantics():
    registry.inject_payload(3, {"a": 1})
    assert registry.get_payload("3") == {"a": 1}
    assert registry.pop_payload("3") == {"a": 1} and registry.pop_payload(3) is None
    registry.register_output("9", "x", 1)
    registry.register_output(9, "y", 2)  # merged into the same bucket
    registry.register_output("9", "x", 3)
    assert registry.pop_output("9") == {"x": 3, "y": 2}
    assert registry.pop_output("9") is None
    with pytest.raises(TypeError):
        registry.inject_payload(1, ["not", "a", "dict"])


def test_remote_input_precedence(comfy):
    _flavour, _rec, nodes = comfy
    img = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)
    payload = json.dumps(encode_value(img))
    # 1) payload input wins
    nodes.RemoteInputNode.inject_payload("4", {"image": "from registry"})
    out = _run(nodes, "RemoteInputNode", "4", key="image", payload=payload, fallback="fb")
    assert as_np(out[0]).tobytes() == img.tobytes()
    # 2) registry payload[key]
    assert _run(nodes, "RemoteInputNode", "4", key="image", fallback="fb")[0] == "from registry"
    # 3) fallback
    assert _run(nodes, "RemoteInputNode", "4", key="other", fallback="fb")[0] == "fb"
    # 4) clear error naming the key
    with pytest.raises(RemoteInputMissingError, match="'other'") as info:
        _run(nodes, "RemoteInputNode", "4", key="other")
    assert info.value.code == "REMOTE_INPUT_MISSING"
    with pytest.raises(CodecError, match="not JSON"):
        _run(nodes, "RemoteInputNode", "4", key="image", payload="{oops")


def test_remote_input_fingerprint_changes_with_injections(comfy):
    _flavour, _rec, nodes = comfy
    before = nodes.RemoteInputNode.fingerprint_inputs(key="a")
    nodes.RemoteInputNode.inject_payload("1", {"a": 1})
    assert nodes.RemoteInputNode.fingerprint_inputs(key="a") != before


def test_remote_output_ui_and_registry(comfy):
    _flavour, _rec, nodes = comfy
    mask = np.ones((1, 3, 4), np.float32)
    out = _run(nodes, "RemoteOutputNode", "12", value=mask, key="mask")
    assert out[0] is mask  # passthrough
    (entry,) = out.ui["remote_output"]
    assert entry["name"] == "mask" and entry["value"]["type"] == "MASK" and entry["value"]["encoding"] == "npy"
    json.dumps(out.ui)  # history must be able to store it
    assert as_np(decode_value(entry["value"])).tobytes() == mask.tobytes()
    _run(nodes, "RemoteOutputNode", "12", value="text", key="caption")
    assert set(nodes.RemoteOutputNode.pop_output("12")) == {"mask", "caption"}
    assert nodes.RemoteOutputNode.pop_output("12") is None
    fp = nodes.RemoteOutputNode.fingerprint_inputs(value=1, key="k")
    assert fp != fp  # NaN: always executes, so the registry gets every value


def test_remote_output_that_cannot_be_encoded_reports_it(comfy, monkeypatch):
    monkeypatch.delenv("COMFY_REMOTE_ALLOW_PICKLE", raising=False)
    _flavour, _rec, nodes = comfy
    out = _run(nodes, "RemoteOutputNode", "2", value={"model": object()}, key="model")
    entry = out.ui["remote_output"][0]
    assert entry["value"] is None and entry["error"]["code"] == "BAD_VALUE"


def test_select_output(comfy):
    _flavour, _rec, nodes = comfy
    assert nodes.SelectOutputNode.execute(outputs={"a": 1, "b": 2}, name="b")[0] == 2
    with pytest.raises(Exception, match="returned: a, b"):
        nodes.SelectOutputNode.execute(outputs={"a": 1, "b": 2}, name="c")
