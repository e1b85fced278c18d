"""What one bridge call ended with, shared by the one-shot and the persistent bridge.

Both modes collect the same things (the ``result`` or ``error`` event, whether the
call was cancelled or timed out) and turn them into the same return value or
exception, so callers see identical semantics whichever mode ran the request.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from .errors import BridgeError, CancelledError

logger = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], None]

#: Put on an event queue when the bridge's stdout ends.
EOF = object()


def deliver(event: dict[str, Any], on_event: EventHandler | None) -> None:
    """Hands a ``status`` / ``progress`` / ``log`` event to the caller; a display problem never breaks the call."""

    if on_event is None:
        return
    try:
        on_event(event)
    except Exception:
        logger.exception("comfy-remote: progress handler failed")


def finish(
    *,
    result: dict[str, Any] | None,
    error: dict[str, Any] | None,
    cancelled: bool,
    timed_out: bool,
    hard_timeout: float | None,
    exit_note: Callable[[], str],
) -> dict[str, Any]:
    """The ``result`` event, or the exception the call ends with (cancel > timeout > error > no result)."""

    if cancelled:
        raise CancelledError("the run was interrupted in ComfyUI; the bridge was stopped and the remote job cancelled")
    if timed_out:
        raise BridgeError(f"the bridge did not finish within {hard_timeout:.0f} s; raise the timeout", code="TIMEOUT")
    if error is not None:
        code = str(error.get("code") or "BRIDGE_ERROR")
        raise BridgeError(str(error.get("message") or "the bridge reported an error"), code=code, details=error)
    if result is None:
        raise BridgeError(exit_note())
    return result


__all__ = ["EOF", "EventHandler", "deliver", "finish"]
