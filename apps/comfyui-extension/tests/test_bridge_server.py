"""The persistent bridge (comfy_remote.bridge_server) with tests/fake_bridge.mjs: one process shared by calls,
concurrent calls, cancel of one call, restart after a crash, the one-shot override and fallback, exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from comfy_remote import bridge_server
from comfy_remote.bridge import call_bridge, ping
from comfy_remote.errors import BridgeError, CancelledError
from conftest import PACK_DIR


@pytest.fixture
def record(tmp_path, monkeypatch):
    path = tmp_path / "request.json"
    monkeypatch.setenv("FAKE_BRIDGE_RECORD", str(path))
    monkeypatch.delenv("COMFY_REMOTE_BRIDGE_MODE", raising=False)
    return path


def run_request(path: str, work_dir: str, **inputs) -> dict:
    encoded = {k: {"type": "*", "encoding": "json", "data": v} for k, v in inputs.items()}
    return {"op": "run", "url": f"http://127.0.0.1:9{path}", "token": None, "timeout": 30.0, "pollInterval": 0.1,
            "inputs": encoded, "workDir": work_dir, "transport": "auto"}  # fmt: skip


def test_calls_share_one_long_lived_process(fake_bridge, record, tmp_path):
    assert bridge_server.current_pid() is None
    assert ping()["version"] == "fake-0"
    pid = bridge_server.current_pid()
    assert pid is not None
    events: list[dict] = []
    result = call_bridge(run_request("/echo", str(tmp_path), prompt="hi"), on_event=events.append)
    assert result["outputs"]["prompt"]["data"] == "hi"
    assert bridge_server.current_pid() == pid
    assert json.loads(record.read_text())["inputs"]["prompt"]["data"] == "hi"
    # Callers see the same events as with one process per call: no "id", same order.
    assert [e["event"] for e in events] == ["status", "status", "progress", "progress", "progress", "log", "status"]
    assert all("id" not in e for e in events) and "id" not in result


def test_concurrent_calls_cancel_one_while_the_other_completes(fake_bridge, record, tmp_path):
    cancel = threading.Event()
    outcome: dict[str, object] = {}

    def slow() -> None:
        try:
            call_bridge(run_request("/slow", str(tmp_path)), should_cancel=cancel.is_set, hard_timeout=30)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["slow"] = exc

    ping()
    pid = bridge_server.current_pid()
    thread = threading.Thread(target=slow)
    thread.start()
    try:
        done = call_bridge(run_request("/echo", str(tmp_path), n=7), hard_timeout=30)
        assert done["outputs"]["n"]["data"] == 7
        assert thread.is_alive()  # the slow call is still waiting: calls do not queue behind each other
    finally:
        cancel.set()
        thread.join(timeout=15)
    assert isinstance(outcome.get("slow"), CancelledError)
    assert (record.parent / "request.json.cancelled").read_text() == "DELETE /jobs/job-slow"
    assert bridge_server.current_pid() == pid


def test_a_dead_bridge_is_restarted_on_the_next_call(fake_bridge, record, tmp_path):
    ping()
    first = bridge_server.current_pid()
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while bridge_server.current_pid() is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert call_bridge(run_request("/echo", str(tmp_path), x=1))["outputs"]["x"]["data"] == 1
    second = bridge_server.current_pid()
    assert second is not None and second != first


def test_a_crash_fails_only_the_calls_in_flight(fake_bridge, record, tmp_path):
    ping()
    with pytest.raises(BridgeError, match="exited with code 3 .*crashed on purpose"):
        call_bridge(run_request("/crash", str(tmp_path)))
    assert ping()["version"] == "fake-0"  # a new process serves the next call


def test_oneshot_override_starts_no_persistent_process(fake_bridge, record, tmp_path, monkeypatch):
    monkeypatch.setenv("COMFY_REMOTE_BRIDGE_MODE", "oneshot")
    assert call_bridge(run_request("/echo", str(tmp_path), x=2))["outputs"]["x"]["data"] == 2
    assert bridge_server.current_pid() is None


def test_falls_back_to_oneshot_with_a_warning_when_serve_cannot_start(fake_bridge, record, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FAKE_BRIDGE_NO_SERVE", "1")
    with caplog.at_level("WARNING", logger="comfy_remote.bridge_server"):
        assert call_bridge(run_request("/echo", str(tmp_path), x=3))["outputs"]["x"]["data"] == 3
        assert call_bridge(run_request("/echo", str(tmp_path), x=4))["outputs"]["x"]["data"] == 4
    warnings = [r.getMessage() for r in caplog.records if "could not start" in r.getMessage()]
    assert len(warnings) == 1, warnings  # not retried on every call
    assert "not supported" in warnings[0]
    assert bridge_server.current_pid() is None


SCRIPT = """
import atexit, sys
sys.path.insert(0, {pack!r})
from comfy_remote import bridge_server
from comfy_remote.bridge import ping

state = {{}}
# Registered before the bridge starts, so it runs after the pack's own atexit shutdown.
atexit.register(lambda: print("exit-code-after-shutdown", state["proc"].poll(), flush=True))
ping()
state["proc"] = bridge_server._server.proc
print("pid", state["proc"].pid, flush=True)
"""


def test_the_bridge_is_stopped_at_interpreter_exit(fake_bridge):
    env = {k: v for k, v in os.environ.items() if k != "COMFY_REMOTE_BRIDGE_MODE"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(pack=PACK_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("pid ")
    assert lines[-1] == "exit-code-after-shutdown 0"
