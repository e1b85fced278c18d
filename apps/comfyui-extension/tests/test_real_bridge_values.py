"""Composite and low-precision values through the REAL bridge and mock worker (echo), both transports.

Complements test_e2e_bridge.py (images, progress, cancel): LATENT/CONDITIONING/primitives and
float16/bfloat16 must come back bit-exact. Skips when the bridge or the mock worker is not built.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time

import numpy as np
import pytest

from conftest import PACK_DIR, REPO_DIR, as_np

BRIDGE = os.path.join(PACK_DIR, "bridge", "bridge.mjs")
WORKER_CLI = os.path.join(REPO_DIR, "apps", "mock-worker", "dist", "cli.js")
NODE = os.environ.get("COMFY_REMOTE_NODE") or shutil.which("node")
KEYS = ["image", "latent", "cond", "seed", "caption"]

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not on PATH"),
    pytest.mark.skipif(not os.path.isfile(BRIDGE), reason="bridge/bridge.mjs is not built (pnpm build)"),
    pytest.mark.skipif(not os.path.isfile(WORKER_CLI), reason="apps/mock-worker is not built (pnpm build)"),
]


@pytest.fixture(scope="module")
def worker_url(tmp_path_factory):
    prompt = {}
    for i, key in enumerate(KEYS):
        prompt[str(2 * i + 1)] = {"class_type": "ComfyRemoteInput", "inputs": {"key": key}}
        prompt[str(2 * i + 2)] = {"class_type": "ComfyRemoteOutput", "inputs": {"value": [str(2 * i + 1), 0], "key": key}}
    wf = tmp_path_factory.mktemp("worker") / "prompt.json"
    wf.write_text(json.dumps(prompt))
    args = [NODE, WORKER_CLI, "--workflow", str(wf), "--port", "0", "--steps", "2", "--step-ms", "5"]
    proc = subprocess.Popen([*args, "--log-level", "silent"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    url = None
    deadline = time.monotonic() + 20
    try:
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline().decode("utf-8", "replace")
            m = re.search(r"listening on (http://\S+)", line)
            url = m.group(1) if m else None
        if url is None:
            pytest.fail("the mock worker did not print its URL within 20 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def real_bridge(monkeypatch):
    monkeypatch.delenv("COMFY_REMOTE_BRIDGE", raising=False)
    monkeypatch.delenv("COMFY_REMOTE_TOKEN", raising=False)


@pytest.mark.parametrize("transport", ["auto", "json"])
def test_composites_and_float16_round_trip(worker_url, real_bridge, transport):
    from comfy_remote.remote_call import run_remote

    rng = np.random.default_rng(11)
    image = rng.random((1, 32, 32, 4)).astype(np.float16)[:, ::2]  # float16, not contiguous
    latent = {"samples": rng.standard_normal((1, 4, 8, 8)).astype(np.float32), "batch_index": [0, 1]}
    cond = [[rng.standard_normal((1, 7, 16)).astype(np.float32), {"pooled_output": np.ones((1, 16), np.float32)}]]
    inputs = {"image": image, "latent": latent, "cond": cond, "seed": 123456789, "caption": "a cat"}
    out = run_remote(worker_url, inputs, timeout=60, poll_interval=0.2, transport=transport).outputs
    assert set(out) == set(KEYS)
    assert as_np(out["image"]).dtype == np.float16
    assert as_np(out["image"]).tobytes() == np.ascontiguousarray(image).tobytes()
    assert as_np(out["latent"]["samples"]).tobytes() == latent["samples"].tobytes()
    assert out["latent"]["batch_index"] == [0, 1]
    assert as_np(out["cond"][0][0]).tobytes() == cond[0][0].tobytes()
    assert as_np(out["cond"][0][1]["pooled_output"]).tobytes() == cond[0][1]["pooled_output"].tobytes()
    assert out["seed"] == 123456789 and out["caption"] == "a cat"


@pytest.mark.torch
def test_bfloat16_tensor_round_trip(worker_url, real_bridge):
    torch = pytest.importorskip("torch")
    from comfy_remote.remote_call import run_remote

    t = torch.rand(1, 16, 16, 3).to(torch.bfloat16)[:, ::2]
    inputs = {"image": t, "latent": {"samples": t}, "cond": [], "seed": 1, "caption": ""}
    out = run_remote(worker_url, inputs, timeout=60, poll_interval=0.2).outputs
    assert out["image"].dtype == torch.bfloat16 and torch.equal(out["image"], t.contiguous())
    assert torch.equal(out["latent"]["samples"], t.contiguous())
