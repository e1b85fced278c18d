"""End to end: the Remote API node's Python path -> the real bridge (bridge/bridge.mjs) -> a real mock
worker process (echo engine) and back. Skips cleanly when the TS side has not been built.

Build first: ``npx -y pnpm@10.34.8 --filter @comfy-remote/comfyui-extension... build`` (the bridge and the
mock worker).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

PACK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(os.path.dirname(PACK_DIR))
BRIDGE = os.path.join(PACK_DIR, "bridge", "bridge.mjs")
WORKER_CLI = os.path.join(REPO_DIR, "apps", "mock-worker", "dist", "cli.js")
NODE = os.environ.get("COMFY_REMOTE_NODE") or shutil.which("node")

PROMPT = {
    "1": {"inputs": {"key": "image"}, "class_type": "ComfyRemoteInput"},
    "2": {"inputs": {"key": "scale"}, "class_type": "ComfyRemoteInput"},
    "3": {"inputs": {"value": ["1", 0], "key": "image"}, "class_type": "ComfyRemoteOutput"},
    "4": {"inputs": {"value": ["2", 0], "key": "scale"}, "class_type": "ComfyRemoteOutput"},
}

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not on PATH (set COMFY_REMOTE_NODE)"),
    pytest.mark.skipif(not os.path.isfile(BRIDGE), reason=f"{BRIDGE} is not built (pnpm build)"),
    pytest.mark.skipif(not os.path.isfile(WORKER_CLI), reason=f"{WORKER_CLI} is not built (pnpm build)"),
]


class Worker:
    """``node apps/mock-worker/dist/cli.js --workflow <file> --port 0`` as a child process."""

    def __init__(self, tmp_path, steps: int, step_ms: int, token: str | None = None):
        workflow = tmp_path / "prompt.json"
        workflow.write_text(json.dumps(PROMPT))
        args = [NODE, WORKER_CLI, "--workflow", str(workflow), "--port", "0", "--steps", str(steps)]
        args += ["--step-ms", str(step_ms), "--log-level", "silent"]
        args += ["--token", token] if token else []
        env = {k: v for k, v in os.environ.items() if k != "COMFY_REMOTE_TOKEN"}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        lines: queue.Queue = queue.Queue()

        def pump() -> None:
            assert self.proc.stdout is not None
            for raw in iter(self.proc.stdout.readline, b""):
                lines.put(raw.decode("utf-8", "replace"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 20
        self.url = None
        while self.url is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.url = m.group(1)
        if self.url is None:
            self.close()
            raise RuntimeError("the mock worker did not print its URL within 20 s")

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/health", timeout=5) as res:
            return json.loads(res.read())

    def close(self) -> None:
        from comfy_remote import bridge_server

        # The persistent bridge keeps idle keep-alive connections to the worker, which would hold up its
        # graceful shutdown: stop the bridge first.
        bridge_server.shutdown()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def fast_worker(tmp_path):
    worker = Worker(tmp_path, steps=4, step_ms=20)
    yield worker
    worker.close()


@pytest.fixture
def token_worker(tmp_path):
    worker = Worker(tmp_path, steps=2, step_ms=5, token="s3cret-token")
    yield worker
    worker.close()


@pytest.fixture
def slow_worker(tmp_path):
    worker = Worker(tmp_path, steps=400, step_ms=50)
    yield worker
    worker.close()


@pytest.fixture(params=["persistent", "oneshot"])
def real_bridge(request, monkeypatch):
    """The built bridge, as the persistent process (default) and one process per call."""

    monkeypatch.delenv("COMFY_REMOTE_BRIDGE", raising=False)
    monkeypatch.delenv("COMFY_REMOTE_TOKEN", raising=False)
    if request.param == "oneshot":
        monkeypatch.setenv("COMFY_REMOTE_BRIDGE_MODE", "oneshot")
    else:
        monkeypatch.delenv("COMFY_REMOTE_BRIDGE_MODE", raising=False)
    return request.param


def check_mode(mode: str) -> None:
    """The call went where the mode says: the persistent bridge is running, or none was started."""

    from comfy_remote import bridge_server

    pid = bridge_server.current_pid()
    assert (pid is not None) == (mode == "persistent"), (mode, pid)


def image(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    arr = rng.standard_normal((1, 24, 40, 3)).astype(np.float32)
    arr[0, 0, 0, :] = [np.float32(1e-38), np.float32(-0.0), np.float32(3.4e38)]
    return arr


def call(url: str, reporter, **slots):
    from comfy_remote.nodes.remote_api import call_remote_api

    return call_remote_api(url, 60.0, 0.1, "", False, "image, scale", reporter=reporter, **slots)


def progress_values(reporter) -> list[float]:
    return [value for kind, (value, _max) in ((k, v) for k, v in reporter.events if k == "progress")]


def test_numpy_image_round_trip_bit_exact(real_bridge, fast_worker):
    from comfy_remote.remote_call import NullReporter

    reporter = NullReporter()
    sent = image(1)
    outcome = call(fast_worker.url, reporter, **{"input_1_$remote_inputs_ag$": sent, "input_2_$remote_inputs_ag$": 0.25})
    got = np.asarray(outcome.outputs["image"])
    assert got.dtype == np.float32 and got.shape == sent.shape
    assert got.tobytes() == sent.tobytes()
    assert outcome.outputs["scale"] == 0.25
    values = progress_values(reporter)
    assert values, reporter.events
    assert values == sorted(values)
    texts = [v for k, v in reporter.events if k == "text"]
    assert any("completed" in t for t in texts), texts
    check_mode(real_bridge)


def test_a_large_output_sent_by_reference_is_fetched_by_the_node(real_bridge, fast_worker, monkeypatch):
    """Over 1 MiB the worker answers a ref; the bridge hands it over (refsToCaller) and the node reads it
    straight into memory: bit-exact, writable, no file left in the work dir."""

    from comfy_remote import ref_fetch
    from comfy_remote.remote_call import NullReporter

    fetched, released = [], []
    real_fetch, real_release = ref_fetch.fetch_ref, ref_fetch.release_job
    monkeypatch.setattr(ref_fetch, "fetch_ref", lambda url, *a, **kw: fetched.append(url) or real_fetch(url, *a, **kw))
    monkeypatch.setattr("comfy_remote.remote_call.release_job", lambda req: released.append(real_release(req)))
    rng = np.random.default_rng(7)
    sent = rng.random((1, 512, 640, 3), dtype=np.float32)  # 3.75 MiB
    reporter = NullReporter()
    outcome = call(fast_worker.url, reporter, **{"input_1_$remote_inputs_ag$": sent, "input_2_$remote_inputs_ag$": 1.0})
    got = np.asarray(outcome.outputs["image"])
    assert got.tobytes() == sent.tobytes() and got.flags.writeable
    assert len(fetched) == 1 and "/jobs/" in fetched[0] and "/outputs/" in fetched[0]
    assert ("text", "downloading 1 output(s), 3.8 MiB") in reporter.events
    # then the node releases the job: the worker deletes its inputs and outputs instead of keeping them
    released[0].join(10)
    job_url = fetched[0].split("/outputs/")[0]
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(job_url, timeout=10)
    assert gone.value.code == 404 and "released" in gone.value.read().decode()


def test_an_output_by_reference_from_a_worker_with_a_token(real_bridge, token_worker):
    """The node fetches the ref itself: the token the bridge got goes with it (else 401)."""

    from comfy_remote.errors import BridgeError
    from comfy_remote.remote_call import NullReporter, run_remote

    sent = np.random.default_rng(3).random((1, 512, 640, 3), dtype=np.float32)
    outcome = run_remote(token_worker.url, {"image": sent, "scale": 1.0}, reporter=NullReporter(),
                         token="s3cret-token", timeout=60)
    assert np.asarray(outcome.outputs["image"]).tobytes() == sent.tobytes()
    with pytest.raises(BridgeError) as info:
        run_remote(token_worker.url, {"image": sent, "scale": 1.0}, reporter=NullReporter(), token="wrong", timeout=60)
    assert info.value.code == "UNAUTHORIZED"


def test_dotted_autogrow_names_map_the_same(real_bridge, fast_worker):
    from comfy_remote.remote_call import NullReporter

    sent = image(2)
    outcome = call(fast_worker.url, NullReporter(), remote_inputs={"input0": sent, "input1": 2.0})
    assert np.asarray(outcome.outputs["image"]).tobytes() == sent.tobytes()
    assert outcome.outputs["scale"] == 2.0


@pytest.mark.torch
def test_torch_tensor_round_trip_bit_exact(real_bridge, fast_worker):
    import torch

    from comfy_remote.remote_call import NullReporter

    sent = torch.from_numpy(image(3)).permute(0, 2, 1, 3).contiguous().permute(0, 2, 1, 3)  # non-contiguous view
    assert not sent.is_contiguous()
    outcome = call(fast_worker.url, NullReporter(), input_1=sent, input_2=1.0)
    got = outcome.outputs["image"]
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    assert torch.equal(got, sent)
    assert got.numpy().tobytes() == sent.contiguous().numpy().tobytes()


def test_cancel_stops_the_bridge_and_the_remote_job(real_bridge, slow_worker):
    from comfy_remote.errors import CancelledError
    from comfy_remote.remote_call import NullReporter

    class CancelAfterProgress(NullReporter):
        def should_cancel(self) -> bool:
            return any(k == "progress" and v[0] >= 2 for k, v in self.events)

    reporter = CancelAfterProgress()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        call(slow_worker.url, reporter, input_1=image(4), input_2=1.0)
    # The job would run 20 s; the cancel must have reached the worker.
    assert time.monotonic() - started < 15
    deadline = time.monotonic() + 5
    stats = slow_worker.health()["jobs"]
    while stats["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
        stats = slow_worker.health()["jobs"]
    assert stats["jobs"] == 1 and stats["running"] == 0, stats
    check_mode(real_bridge)


def test_persistent_bridge_runs_calls_concurrently_and_cancels_one(monkeypatch, fast_worker, slow_worker):
    """One persistent process: a slow job is cancelled while a fast round trip completes next to it."""

    from comfy_remote import bridge_server
    from comfy_remote.errors import CancelledError
    from comfy_remote.remote_call import NullReporter

    monkeypatch.delenv("COMFY_REMOTE_BRIDGE", raising=False)
    monkeypatch.delenv("COMFY_REMOTE_TOKEN", raising=False)
    monkeypatch.delenv("COMFY_REMOTE_BRIDGE_MODE", raising=False)
    cancel = threading.Event()

    class SlowReporter(NullReporter):
        def should_cancel(self) -> bool:
            return cancel.is_set()

    slow_reporter = SlowReporter()
    outcome: dict[str, object] = {}

    def slow() -> None:
        try:
            call(slow_worker.url, slow_reporter, input_1=image(5), input_2=1.0)
        except Exception as exc:  # noqa: BLE001 - inspected below
            outcome["error"] = exc

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not progress_values(slow_reporter) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert progress_values(slow_reporter), slow_reporter.events
        pid = bridge_server.current_pid()
        assert pid is not None
        sent = image(6)
        fast = call(fast_worker.url, NullReporter(), input_1=sent, input_2=0.5)
        assert np.asarray(fast.outputs["image"]).tobytes() == sent.tobytes()
        assert thread.is_alive()
    finally:
        cancel.set()
        thread.join(timeout=20)
    assert isinstance(outcome.get("error"), CancelledError), outcome
    deadline = time.monotonic() + 5
    stats = slow_worker.health()["jobs"]
    while stats["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
        stats = slow_worker.health()["jobs"]
    assert stats["jobs"] == 1 and stats["running"] == 0, stats
    assert bridge_server.current_pid() == pid
