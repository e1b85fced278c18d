"""Client of the bundled Node bridge (contract: docs in README, "Bridge contract").

``call_bridge(request)`` runs one request. ``status`` / ``progress`` / ``log``
events go to ``on_event``; the ``result`` event is returned; an ``error`` event
raises ``BridgeError`` with the bridge's code; when ``should_cancel()`` turns true
(ComfyUI's interrupt) the remote job is cancelled and ``CancelledError`` raised.

By default the request goes to the persistent bridge (``bridge_server``: one
``bridge.mjs --serve`` per ComfyUI process). ``COMFY_REMOTE_BRIDGE_MODE=oneshot``,
or a persistent bridge that cannot start, runs ``call_bridge_oneshot``: it starts
``node <pack>/bridge/bridge.mjs``, writes ONE JSON line on stdin, closes it, and
reads events until the process ends; on cancel the bridge gets SIGTERM (it
cancels the remote job), and SIGKILL KILL_AFTER s later if still alive.
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

from . import bridge_server
from .bridge_outcome import EOF as _EOF
from .bridge_outcome import EventHandler, deliver, finish
from .node_binary import bridge_script, find_node

logger = logging.getLogger(__name__)

KILL_AFTER = 5.0


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
    """Run one bridge request to completion and return its ``result`` event (persistent bridge if possible)."""

    server = bridge_server.get_server() if bridge_server.persistent_enabled() else None
    if server is None:
        return call_bridge_oneshot(
            request, on_event=on_event, should_cancel=should_cancel, hard_timeout=hard_timeout, poll_every=poll_every
        )
    return call_persistent(
        server,
        request,
        on_event=on_event,
        should_cancel=should_cancel,
        hard_timeout=hard_timeout,
        poll_every=poll_every,
        cancel_wait=KILL_AFTER,
    )


def call_bridge_oneshot(
    request: dict[str, Any],
    *,
    on_event: EventHandler | None = None,
    should_cancel: Callable[[], bool] | None = None,
    hard_timeout: float | None = None,
    poll_every: float = 0.1,
) -> dict[str, Any]:
    """Run one request in its own bridge process and return its ``result`` event."""

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
                else:
                    deliver(event, on_event)
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
    return finish(
        result=result,
        error=error,
        cancelled=cancelled,
        timed_out=timed_out,
        hard_timeout=hard_timeout,
        exit_note=lambda: (
            f"the bridge exited with code {call.proc.returncode} without a result. "
            f"stderr: {call.stderr_text() or '(empty)'}"
        ),
    )


def call_persistent(
    server: bridge_server.BridgeServer,
    request: dict[str, Any],
    *,
    on_event: EventHandler | None,
    should_cancel: Callable[[], bool] | None,
    hard_timeout: float | None,
    poll_every: float,
    cancel_wait: float,
) -> dict[str, Any]:
    """One request through the persistent bridge; same events and outcome as a one-shot call.

    On interrupt or hard timeout a ``cancel`` is sent and the call waits up to ``cancel_wait`` s for the
    bridge to confirm (remote job cancelled) before it raises.
    """

    call_id, events = server.open()
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    cancelled = timed_out = eof = False
    give_up_at: float | None = None
    started = time.monotonic()
    try:
        eof = not server.send({**request, "id": call_id})
        while not eof:
            try:
                event = events.get(timeout=poll_every)
            except queue.Empty:
                event = None
            if event is _EOF:
                eof = True
                break
            if event is not None:
                kind = event.get("event")
                if kind == "result":
                    result = event
                    break
                if kind == "error":
                    error = event
                    break
                deliver(event, on_event)
            stop = False
            if not cancelled and not timed_out:
                if should_cancel is not None and should_cancel():
                    cancelled = stop = True
                elif hard_timeout is not None and time.monotonic() - started > hard_timeout:
                    timed_out = stop = True
            if stop:
                server.send({"op": "cancel", "id": call_id})
                give_up_at = time.monotonic() + cancel_wait
            if give_up_at is not None and time.monotonic() > give_up_at:
                logger.warning("comfy-remote: the bridge did not confirm the cancel within %.0f s", cancel_wait)
                break
    finally:
        server.release(call_id)
    return finish(
        result=result,
        error=error,
        cancelled=cancelled,
        timed_out=timed_out,
        hard_timeout=hard_timeout,
        exit_note=server.exit_note,
    )


def ping() -> dict[str, Any]:
    """Start-up check: ``{"event": "result", "version", "node"}``."""

    return call_bridge({"op": "ping"}, hard_timeout=30)


__all__ = ["BridgeCall", "KILL_AFTER", "call_bridge", "call_bridge_oneshot", "call_persistent", "ping"]
