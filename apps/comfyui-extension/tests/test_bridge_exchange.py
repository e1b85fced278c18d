"""Python <-> bridge exchange with tests/fake_bridge.mjs (a real child process speaking the contract)."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import comfy_v3
import pytest

from comfy_remote import bridge as bridge_mod
from comfy_remote.bridge import call_bridge, ping
from comfy_remote.errors import BadInputError, BridgeError, CancelledError, CodecError, NodeNotFoundError
from comfy_remote.remote_call import NullReporter
from conftest import as_np


@pytest.fixture(autouse=True, params=["persistent", "oneshot"])
def bridge_mode(request, monkeypatch):
    """Every exchange runs through the persistent bridge (default) and the one-shot bridge: same semantics."""

    if request.param == "oneshot":
        monkeypatch.setenv("COMFY_REMOTE_BRIDGE_MODE", "oneshot")
    else:
        monkeypatch.delenv("COMFY_REMOTE_BRIDGE_MODE", raising=False)
    return request.param


@pytest.fixture
def record(tmp_path, monkeypatch):
    path = tmp_path / "request.json"
    monkeypatch.setenv("FAKE_BRIDGE_RECORD", str(path))
    return path


def _call(url, reporter=None, **slots):
    from comfy_remote.nodes.remote_api import call_remote_api

    return call_remote_api(url, 30, 0.5, "", False, slots.pop("input_names", ""), reporter=reporter, **slots)


def test_ping(fake_bridge):
    event = ping()
    assert event["version"] == "fake-0" and event["node"].startswith("v")


def test_echo_round_trip_is_bit_exact_and_reports_progress(fake_bridge, record, monkeypatch):
    monkeypatch.setenv("COMFY_REMOTE_TOKEN", "secret-from-env")
    rng = np.random.default_rng(5)
    image = rng.random((1, 64, 48, 3), dtype=np.float32)
    half = rng.random((2, 16, 16, 4)).astype(np.float16)[:, ::2]  # not contiguous
    latent = {"samples": rng.random((1, 4, 8, 8), dtype=np.float32), "batch_index": [0]}
    rep = NullReporter()
    out = _call(
        "http://127.0.0.1:9/echo",
        rep,
        input_names="image, half, , prompt",
        **{"input_1_$remote_inputs_ag$": image, "input_2_$remote_inputs_ag$": half, "input_3_$remote_inputs_ag$": latent},
        **{"input_4_$remote_inputs_ag$": "a cat"},
    )
    assert set(out.outputs) == {"image", "half", "input_3", "prompt"}
    assert as_np(out.outputs["image"]).dtype == np.float32
    assert as_np(out.outputs["image"]).tobytes() == image.tobytes()
    assert as_np(out.outputs["half"]).tobytes() == np.ascontiguousarray(half).tobytes()
    assert as_np(out.outputs["input_3"]["samples"]).tobytes() == latent["samples"].tobytes()
    assert out.outputs["input_3"]["batch_index"] == [0]
    assert out.outputs["prompt"] == "a cat"
    assert as_np(out.result).tobytes() == image.tobytes()
    # the request followed the contract: big values as files in the private work dir
    req = json.loads(record.read_text())
    assert req["op"] == "run" and req["url"] == "http://127.0.0.1:9/echo" and req["transport"] == "auto"
    assert req["token"] == "secret-from-env" and req["timeout"] == 30.0 and req["pollInterval"] == 0.5
    assert req["inputs"]["image"]["data"]["file"].startswith(req["workDir"])
    assert req["inputs"]["input_3"]["encoding"] == "object"
    assert not os.path.exists(req["workDir"])  # cleaned up
    texts = [e[1] for e in rep.events if e[0] == "text"]
    progress = [e[1] for e in rep.events if e[0] == "progress"]
    assert texts[:2] == ["remote job pending (queue position 2)", "remote job running"]
    assert progress == [(1.0, 3.0), (2.0, 3.0), (3.0, 3.0)]
    assert texts.index("step 1") < texts.index("step 2") < texts.index("step 3") < texts.index("remote job completed")


def test_node_execute_drives_progress_bar_and_text(comfy, fake_bridge):
    flavour, rec, nodes = comfy
    image = np.arange(2 * 8 * 8 * 3, dtype=np.float32).reshape(2, 8, 8, 3)
    slot = {"0.3.64": {"input_1_$remote_inputs_ag$": image}, "0.26": {"remote_inputs": {"input0": image}}}
    kwargs = slot.get(flavour, {"input_1": image})
    clone = nodes.RemoteApiNode.PREPARE_CLASS_CLONE({comfy_v3.Hidden.unique_id: "17"})
    out = clone.execute(url="http://127.0.0.1:9/echo", request_timeout=20.0, poll_interval=0.2, **kwargs)
    assert as_np(out[0]).tobytes() == image.tobytes()
    assert set(out[1]) == {"input_1"}
    bars = [c[1:] for c in rec.calls if c[0] == "bar"]
    assert bars == [(1.0, 3.0, "17"), (2.0, 3.0, "17"), (3.0, 3.0, "17"), (1.0, 1.0, "17")]
    set_progress = [c for c in rec.calls if c[0] == "set_progress"]
    assert len(set_progress) == (4 if flavour == "0.26" else 0)
    texts = [c[1] for c in rec.calls if c[0] == "text"]
    assert "step 2" in texts and all(c[2] == "17" for c in rec.calls if c[0] == "text")


def test_comfyui_cancel_stops_the_bridge_and_raises_comfys_interrupt(comfy, fake_bridge, record):
    flavour, rec, nodes = comfy
    rec.cancel_on_progress = True  # the user presses Cancel during the run: the progress hook raises, as in ComfyUI
    clone = nodes.RemoteApiNode.PREPARE_CLASS_CLONE({comfy_v3.Hidden.unique_id: "3"})
    slot = {"0.3.64": {"input_1_$remote_inputs_ag$": 1}, "0.26": {"remote_inputs": {"input0": 1}}}.get(flavour, {"input_1": 1})
    with pytest.raises(Exception) as info:
        clone.execute(url="http://127.0.0.1:9/slow", **slot)
    assert type(info.value).__name__ == "InterruptProcessingException"
    assert (record.parent / "request.json.cancelled").read_text() == "DELETE /jobs/job-slow"


def test_cancel_without_comfyui(fake_bridge, record):
    class CancelAfterProgress(NullReporter):
        def should_cancel(self):
            return any(e[0] == "progress" for e in self.events)

    with pytest.raises(CancelledError) as info:
        _call("http://127.0.0.1:9/slow", CancelAfterProgress(), input_1=1)
    assert info.value.code == "CANCELLED"
    assert (record.parent / "request.json.cancelled").exists()


def test_a_bridge_that_ignores_sigterm_is_killed(fake_bridge, monkeypatch):
    monkeypatch.setattr(bridge_mod, "KILL_AFTER", 0.3)

    class CancelAfterProgress(NullReporter):
        def should_cancel(self):
            return any(e[0] == "progress" for e in self.events)

    with pytest.raises(CancelledError):
        _call("http://127.0.0.1:9/stubborn", CancelAfterProgress(), input_1=1)


@pytest.mark.parametrize(
    ("path", "error", "match"),
    [
        ("/fail", BridgeError, "boom"),
        ("/crash", BridgeError, "exited with code 3 .*crashed on purpose"),
        ("/outside", CodecError, "outside the work dir"),
    ],
)
def test_failures_become_coded_errors(fake_bridge, path, error, match):
    with pytest.raises(error, match=match) as info:
        _call(f"http://127.0.0.1:9{path}", input_1=1)
    if path == "/fail":
        assert info.value.code == "JOB_FAILED"


def test_bad_url_is_refused_before_starting_anything(fake_bridge):
    with pytest.raises(BadInputError, match="url must be an http"):
        _call("ftp://example.com", input_1=1)
    with pytest.raises(BadInputError, match="request_timeout"):
        from comfy_remote.nodes.remote_api import call_remote_api

        call_remote_api("http://x/echo", 0.0, 1.0, input_1=1)


def test_missing_or_old_node_gives_a_clear_error(fake_bridge, monkeypatch, tmp_path):
    monkeypatch.setenv("COMFY_REMOTE_NODE", str(tmp_path / "no-such-node"))
    with pytest.raises(NodeNotFoundError, match="COMFY_REMOTE_NODE"):
        ping()
    old = tmp_path / "old-node"
    old.write_text("#!/bin/sh\necho v18.19.0\n")
    old.chmod(old.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("COMFY_REMOTE_NODE", str(old))
    with pytest.raises(NodeNotFoundError, match=">= 20") as info:
        ping()
    assert info.value.code == "NODE_TOO_OLD"
    monkeypatch.delenv("COMFY_REMOTE_NODE")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NodeNotFoundError, match="no 'node' is on PATH"):
        ping()


def test_missing_bridge_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setenv("COMFY_REMOTE_BRIDGE", str(tmp_path / "bridge.mjs"))
    with pytest.raises(NodeNotFoundError, match="pack") as info:
        call_bridge({"op": "ping"})
    assert info.value.code == "BRIDGE_MISSING"
