"""Live previews and timings of the remote run, through the REAL bridge and mock worker (echo engine:
a 16x16 PNG per step) into the Remote API node: the ComfyUI stand-in's ProgressBar receives the preview
as KSampler passes it, the status text names the remote node, and the final text has the timings."""

from __future__ import annotations

import numpy as np
import pytest

import comfy_v3
import pil_standin
from test_e2e_bridge import Worker, pytestmark  # noqa: F401 - skips when the bridge/worker are not built


@pytest.fixture
def pil():
    installed = pil_standin.install()
    yield
    if installed:
        pil_standin.uninstall()


@pytest.fixture
def preview_worker(tmp_path, monkeypatch):
    monkeypatch.delenv("COMFY_REMOTE_TOKEN", raising=False)
    worker = Worker(tmp_path, steps=4, step_ms=300)
    yield worker
    worker.close()


def run_node(flavour, nodes, url, **extra):
    image = np.zeros((1, 4, 4, 3), dtype=np.float32)
    clone = nodes.RemoteApiNode.PREPARE_CLASS_CLONE({comfy_v3.Hidden.unique_id: "17"})
    slots = {
        "0.3.64": {"input_1_$remote_inputs_ag$": image, "input_2_$remote_inputs_ag$": 0.5},
        "0.26": {"remote_inputs": {"input0": image, "input1": 0.5}},
    }.get(flavour, {"input_1": image, "input_2": 0.5})
    return clone.execute(url=url, request_timeout=30.0, poll_interval=0.2, input_names="image, scale", **slots, **extra)


def test_previews_reach_the_node_progress_bar_with_status_and_timings(comfy, pil, preview_worker):
    flavour, rec, nodes = comfy
    run_node(flavour, nodes, preview_worker.url)
    previews = [c for c in rec.calls if c[0] == "preview"]
    assert previews, rec.calls
    assert all(c[1] == "PNG" and tuple(c[2]) == (16, 16) and c[3] == "17" for c in previews)
    texts = [c[1] for c in rec.calls if c[0] == "text"]
    # the remote node working now: "<class> <step>/<steps>" (the echo engine's first non-Remote node)
    assert any(t.endswith(" 2/4") for t in texts), texts
    assert texts[-1].startswith("done: 2 output(s)") and "queue " in texts[-1] and "run " in texts[-1]


def test_previews_off_sends_none(comfy, pil, preview_worker):
    flavour, rec, nodes = comfy
    run_node(flavour, nodes, preview_worker.url, previews=False)
    assert not [c for c in rec.calls if c[0] == "preview"]
    assert [c for c in rec.calls if c[0] == "bar"]
