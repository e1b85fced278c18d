"""Client of the bundled Node bridge (contract: docs in README, "Bridge contract").

``call_bridge(request)`` starts ``node <pack>/bridge/bridge.mjs``, writes ONE JSON
line on stdin, closes it, and reads NDJSON events from stdout until the process
ends. ``status`` / ``progress`` / ``log`` events go to ``on_event``; the ``result``
event is returned; an ``error`` event raises ``BridgeError`` with the bridge's
code. When ``should_cancel()`` turns true (ComfyUI's interrupt) the bridge gets
SIGTERM (it cancels the remote job), and SIGKILL 5 s later if still alive;
``CancelledError`` is raised.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from typing import Any, Callable

from .errors import BridgeError, CancelledError
from .node_binary import bridge_script, find_node

logger = logging.getLogger(__name__)

KILL_AFTER = 5.0
_EOF = object()

EventHandler = Callable[[dict[str, Any]], None]


def _read_stdout(stream: Any, out: queue.Queue) -> None:
    try:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                logger.debug("bridge stdout (not JSON): %s", line[:500])
                continue
            if isinstance(event, dict):
                out.put(event)
    finally:
        out.put(_EOF)


def _read_stderr(stream: Any, tail: deque) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        tail.append(line)
        logger.debug("bridge stderr: %s", line)


class BridgeCall:
    """One running bridge process. Use ``call_bridge`` unless you need the handle."""

    def __init__(self, request: dict[str, Any], env: dict[str, str] | None = None):
        self.request = request
        args = [find_node(), bridge_script()]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env if env is not None else os.environ.copy(),
        )
        self.events: queue.Queue = queue.Queue()
        self.stderr_tail: deque = deque(maxlen=40)
        threading.Thread(target=_read_stdout, args=(self.proc.stdout, self.events), daemon=True).start()
        threading.Thread(target=_read_stderr, args=(self.proc.stderr, self.stderr_tail), daemon=True).start()
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self.proc.stdin.close()
        except (BrokenPipeError, OSError) as exc:  # the bridge died at once; its events/stderr say why
            logger.debug("bridge stdin closed early: %s", exc)
        self.term_sent_at: float | None = None

    def terminate(self) -> None:
        """SIGTERM once (the bridge cancels the remote job and exits)."""

        if self.term_sent_at is None and self.proc.poll() is None:
            self.term_sent_at = time.monotonic()
            try:
                self.proc.send_signal(signal.SIGTERM)
            except OSError:
                pass

    def kill_if_overdue(self) -> None:
        if self.term_sent_at is not None and time.monotonic() - self.term_sent_at > KILL_AFTER:
            if self.proc.poll() is None:
                logger.warning("comfy-remote: bridge ignored SIGTERM for %.0f s; killing it", KILL_AFTER)
                self.proc.kill()

    def stderr_text(self) -> str:
        return "\n".join(self.stderr_tail)[-2000:]


def call_bridge(
    request: dict[str, Any],
    *,
    on_event: EventHandler | None = None,
    should_cancel: Callable[[], bool] | None = None,
    hard_timeout: float | None = None,
    poll_every: float = 0.1,
) -> dict[str, Any]:
    """Run one bridge request to completion and return its ``result`` event."""

    call = BridgeCall(request)
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    cancelled = False
    timed_out = False
    started = time.monotonic()
    eof = False
    try:
        while True:
            try:
                event = call.events.get(timeout=poll_every)
            except queue.Empty:
                event = None
            if event is _EOF:
                eof = True
            elif event is not None:
                kind = event.get("event")
                if kind == "result":
                    result = event
                elif kind == "error":
                    error = event
                elif on_event is not None:
                    try:
                        on_event(event)
                    except Exception:  # a display problem must not break the call
                        logger.exception("comfy-remote: progress handler failed")
            if not cancelled and should_cancel is not None and should_cancel():
                cancelled = True
                call.terminate()
            if hard_timeout is not None and not timed_out and time.monotonic() - started > hard_timeout:
                timed_out = True
                call.terminate()
            call.kill_if_overdue()
            if eof and call.proc.poll() is not None:
                break
            if eof:
                try:
                    call.proc.wait(timeout=poll_every)
                except subprocess.TimeoutExpired:
                    pass
    finally:
        if call.proc.poll() is None:
            call.proc.kill()
        call.proc.wait()
    if cancelled:
        raise CancelledError("the run was interrupted in ComfyUI; the bridge was stopped and the remote job cancelled")
    if timed_out:
        raise BridgeError(f"the bridge did not finish within {hard_timeout:.0f} s; raise the timeout", code="TIMEOUT")
    if error is not None:
        code = str(error.get("code") or "BRIDGE_ERROR")
        raise BridgeError(str(error.get("message") or "the bridge reported an error"), code=code, details=error)
    if result is None:
        raise BridgeError(
            f"the bridge exited with code {call.proc.returncode} without a result. stderr: {call.stderr_text() or '(empty)'}"
        )
    return result


def ping() -> dict[str, Any]:
    """Start-up check: ``{"event": "result", "version", "node"}``."""

    return call_bridge({"op": "ping"}, hard_timeout=30)


__all__ = ["BridgeCall", "KILL_AFTER", "call_bridge", "ping"]
