"""The persistent bridge: one long-lived ``node bridge.mjs --serve`` per ComfyUI process.

Starting node and loading the bridge costs ~250 ms per call; the persistent
process pays it once. Requests go to its stdin as JSON lines with an ``"id"``;
a reader thread hands every event to the queue of the call with that id.
``get_server()`` starts it lazily (thread-safe, checked with a ``ping``) and
restarts it on the next call if it died; if it cannot start, it returns None
(the caller falls back to one process per call) and retries after RETRY_AFTER s.
At interpreter exit its stdin is closed (it cancels what is in flight) and it
is killed if still alive after SHUTDOWN_WAIT s.
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import os
import queue
import subprocess
import threading
import time
from collections import deque
from typing import Any

from .bridge_outcome import EOF
from .node_binary import bridge_script, find_node

logger = logging.getLogger(__name__)

MODE_ENV = "COMFY_REMOTE_BRIDGE_MODE"
START_TIMEOUT = 15.0
RETRY_AFTER = 60.0
SHUTDOWN_WAIT = 4.0


class ServerStartError(RuntimeError):
    """The persistent bridge did not answer its start-up ``ping``."""


class BridgeServer:
    """One ``bridge.mjs --serve`` process and the calls waiting on it."""

    def __init__(self, node: str, script: str):
        self.key = (node, script)
        self.proc = subprocess.Popen(
            [node, script, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._queues: dict[str, queue.Queue] = {}
        self._ids = itertools.count(1)
        self._stdout_closed = False
        self.stderr_tail: deque = deque(maxlen=40)
        threading.Thread(target=self._read_stdout, daemon=True, name="comfy-remote-bridge-out").start()
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True, name="comfy-remote-bridge-err")
        self._stderr_thread.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return not self._stdout_closed and self.proc.poll() is None

    def open(self) -> tuple[str, queue.Queue]:
        """A new call id and the queue its events arrive on."""

        events: queue.Queue = queue.Queue()
        with self._lock:
            call_id = f"py-{os.getpid()}-{next(self._ids)}"
            self._queues[call_id] = events
            if self._stdout_closed:
                events.put(EOF)
        return call_id, events

    def release(self, call_id: str) -> None:
        with self._lock:
            self._queues.pop(call_id, None)

    def send(self, message: dict[str, Any]) -> bool:
        """Writes one request line; False if the process no longer reads."""

        line = (json.dumps(message) + "\n").encode("utf-8")
        with self._write_lock:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
                return True
            except (OSError, ValueError) as exc:
                logger.debug("comfy-remote: persistent bridge stdin closed: %s", exc)
                return False

    def _read_stdout(self) -> None:
        try:
            assert self.proc.stdout is not None
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").strip()
                try:
                    event = json.loads(line) if line else None
                except ValueError:
                    logger.debug("bridge stdout (not JSON): %s", line[:500])
                    continue
                if not isinstance(event, dict):
                    continue
                call_id = event.pop("id", None)
                with self._lock:
                    target = self._queues.get(call_id) if isinstance(call_id, str) else None
                if target is not None:
                    target.put(event)
                elif event.get("event") == "error":
                    logger.warning("comfy-remote: persistent bridge: %s %s", event.get("code"), event.get("message"))
                else:
                    # the event only: a result names output refs with their auth headers
                    logger.debug("comfy-remote: %r event for no waiting call %r", event.get("event"), call_id)
        finally:
            with self._lock:
                self._stdout_closed = True
                waiting = list(self._queues.values())
            for events in waiting:
                events.put(EOF)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.stderr_tail.append(line)
            logger.debug("bridge stderr: %s", line)

    def exit_note(self) -> str:
        """Why a call got no result: the process ended (its exit code and last stderr lines)."""

        try:
            code: int | None = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        self._stderr_thread.join(timeout=1)
        stderr = "\n".join(self.stderr_tail)[-2000:]
        return f"the bridge exited with code {code} without a result. stderr: {stderr or '(empty)'}"

    def handshake(self, timeout: float) -> None:
        call_id, events = self.open()
        try:
            if not self.send({"op": "ping", "id": call_id}):
                raise ServerStartError("it closed its stdin at once")
            try:
                event = events.get(timeout=timeout)
            except queue.Empty:
                raise ServerStartError(f"no answer to ping within {timeout:.0f} s") from None
            if event is EOF:
                raise ServerStartError(self.exit_note())
            if event.get("event") != "result":
                raise ServerStartError(f"ping answered {event!r:.300}")
        finally:
            self.release(call_id)

    def shutdown(self, wait: float = SHUTDOWN_WAIT) -> None:
        """Closes stdin (the bridge cancels in-flight requests and exits); kills it after ``wait`` s."""

        with self._write_lock:
            try:
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            logger.warning("comfy-remote: the persistent bridge did not exit within %.0f s; killing it", wait)
            self.proc.kill()
            self.proc.wait()


_server: BridgeServer | None = None
_server_lock = threading.Lock()
_failed_at: float | None = None
_atexit_registered = False


def persistent_enabled() -> bool:
    """False when ``COMFY_REMOTE_BRIDGE_MODE=oneshot`` (one bridge process per call, the old way)."""

    mode = os.environ.get(MODE_ENV, "").strip().lower()
    return mode not in ("oneshot", "one-shot", "one_shot")


def get_server() -> BridgeServer | None:
    """The running persistent bridge (started if needed), or None if it cannot start (use one-shot).

    A missing node or bridge raises NodeNotFoundError, as one-shot would.
    """

    global _server, _failed_at, _atexit_registered
    node = find_node()
    script = bridge_script()
    with _server_lock:
        current = _server
        if current is not None and current.alive() and current.key == (node, script):
            return current
        if current is not None:  # dead, or another node/bridge was configured
            _server = None
            threading.Thread(target=current.shutdown, args=(1.0,), daemon=True).start()
        if _failed_at is not None and time.monotonic() - _failed_at < RETRY_AFTER:
            return None
        started: BridgeServer | None = None
        try:
            started = BridgeServer(node, script)
            started.handshake(START_TIMEOUT)
        except (OSError, ServerStartError) as exc:
            logger.warning(
                "comfy-remote: the persistent bridge could not start (%s); using one bridge process per call "
                "(retrying in %.0f s)",
                exc,
                RETRY_AFTER,
            )
            if started is not None and started.proc.poll() is None:
                started.proc.kill()
            _failed_at = time.monotonic()
            return None
        _server, _failed_at = started, None
        if not _atexit_registered:
            atexit.register(shutdown)
            _atexit_registered = True
        return started


def current_pid() -> int | None:
    """The persistent bridge's pid if one is running (diagnostics and tests)."""

    with _server_lock:
        return _server.pid if _server is not None and _server.alive() else None


def shutdown() -> None:
    """Stops the persistent bridge (at exit; tests use it to start afresh). The next call starts a new one."""

    global _server, _failed_at
    with _server_lock:
        current, _server, _failed_at = _server, None, None
    if current is not None:
        current.shutdown()


__all__ = [
    "BridgeServer",
    "MODE_ENV",
    "current_pid",
    "get_server",
    "persistent_enabled",
    "shutdown",
]
