"""The Remote API call, without ComfyUI: encode inputs -> bridge ``run`` -> decode outputs.

``build_run_request`` writes every large input into the private work dir and
returns the bridge request; ``decode_run_result`` reads the bridge's ``result``
event back (files from the same work dir); ``run_remote`` does both around
``call_bridge`` with progress reporting and cancellation.
"""

from __future__ import annotations

import base64
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol
from urllib.parse import urlparse

from .bridge import call_bridge
from .codec import decode_value, encode_value
from .errors import BadInputError
from .files import WorkDir
from .ref_fetch import fetch_refs, release_job

logger = logging.getLogger(__name__)

TOKEN_ENV = "COMFY_REMOTE_TOKEN"
TIMEOUT_MARGIN = 60.0


class Reporter(Protocol):
    def progress(self, value: float, maximum: float) -> None: ...
    def text(self, message: str) -> None: ...
    def should_cancel(self) -> bool: ...


class NullReporter:
    """Reporter used outside ComfyUI: records what it was told (handy in tests)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.cancel = False

    def progress(self, value: float, maximum: float) -> None:
        self.events.append(("progress", (value, maximum)))

    def text(self, message: str) -> None:
        self.events.append(("text", message))

    def preview(self, mime: str, image: bytes) -> None:
        self.events.append(("preview", (mime, image)))

    def should_cancel(self) -> bool:
        return self.cancel


@dataclass
class RemoteResult:
    result: Any
    outputs: dict[str, Any] = field(default_factory=dict)
    #: where the remote job's time went (queue/startup/run/transfer seconds), when the worker says
    timings: dict[str, float] | None = None


def timings_text(timings: dict[str, Any] | None) -> str:
    """`queue 0.8 s, start-up 0 s, run 12.4 s, transfer 0.3 s` (empty without timings); a cold start says so:
    `start-up 3.1 s (cold start, restored from snapshot)`."""

    if not isinstance(timings, dict):
        return ""
    parts = []
    for key, label in (("queue_seconds", "queue"), ("startup_seconds", "start-up"), ("run_seconds", "run"), ("transfer_seconds", "transfer")):
        value = timings.get(key)
        if isinstance(value, (int, float)):
            parts.append(f"{label} {round(float(value), 2):g} s")
            if key == "startup_seconds" and timings.get("cold_start") is True:
                parts[-1] += " (cold start, restored from snapshot)" if timings.get("restored_from_snapshot") is True else " (cold start)"
    return ", ".join(parts)


def check_url(url: Any, field_name: str = "url") -> str:
    text = str(url or "").strip()
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise BadInputError(f"{field_name} must be an http(s) URL of a comfy-remote endpoint, got {text!r}")
    return text


def resolve_token(token: str | None) -> str | None:
    """The ``token`` input, else ``COMFY_REMOTE_TOKEN``, else None."""

    given = (token or "").strip()
    return given or (os.environ.get(TOKEN_ENV, "").strip() or None)


def build_run_request(
    url: str,
    inputs: dict[str, Any],
    work: WorkDir,
    *,
    token: str | None = None,
    timeout: float = 300.0,
    poll_interval: float = 1.5,
    allow_pickle: bool = False,
    transport: str = "auto",
    previews: bool = False,
) -> dict[str, Any]:
    encoded = {
        name: encode_value(value, sink=work.sink, name=name, allow_pickle=allow_pickle) for name, value in inputs.items()
    }
    return {
        "op": "run",
        "url": check_url(url),
        "token": resolve_token(token),
        "timeout": float(timeout),
        "pollInterval": float(poll_interval),
        "inputs": encoded,
        "workDir": work.path,
        "transport": transport,
        "previews": bool(previews),
        # outputs sent by reference come back as URLs: fetch_refs reads them straight into memory
        "refsToCaller": True,
    }


def decode_run_result(
    event: dict[str, Any],
    work_dir: str,
    *,
    allow_pickle: bool = False,
    timeout: float = 300.0,
    should_cancel: Callable[[], bool] = lambda: False,
    report: Callable[[str], None] = lambda _message: None,
) -> RemoteResult:
    """The bridge's ``result`` event decoded; outputs it names by reference are downloaded first."""

    raw_outputs = event.get("outputs") or {}
    if not isinstance(raw_outputs, dict):
        raw_outputs = {}
    names = list(raw_outputs)
    *values, raw_result = fetch_refs([raw_outputs[n] for n in names] + [event.get("result")], work_dir,
                                     timeout=timeout, should_cancel=should_cancel, report=report)
    raw_outputs = dict(zip(names, values))
    outputs = {
        str(name): decode_value(ev, allow_pickle=allow_pickle, file_root=work_dir, where=f"outputs.{name}")
        for name, ev in raw_outputs.items()
    }
    if raw_result is not None:
        result = decode_value(raw_result, allow_pickle=allow_pickle, file_root=work_dir, where="result", lenient=True)
    else:
        result = next(iter(outputs.values()), None)
    release_job(event.get("release"))
    timings = event.get("timings")
    return RemoteResult(result=result, outputs=outputs, timings=timings if isinstance(timings, dict) else None)


def report_progress(reporter: Reporter, event: dict[str, Any]) -> None:
    """A bridge ``progress`` event: the progress bar when value/max are numbers, its message as text."""

    value, maximum = event.get("value"), event.get("max")
    if isinstance(value, (int, float)) and isinstance(maximum, (int, float)):
        reporter.progress(float(value), float(maximum))
    if event.get("message"):
        reporter.text(str(event["message"]))


def event_handler(reporter: Reporter):
    """Maps bridge events to the node's progress bar and progress text."""

    def handle(event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "progress":
            report_progress(reporter, event)
        elif kind == "preview":
            show = getattr(reporter, "preview", None)
            data = event.get("data")
            if show is not None and isinstance(data, str):
                try:
                    image = base64.b64decode(data, validate=True)
                except ValueError:
                    return
                show(str(event.get("mime") or "image/jpeg"), image)
        elif kind == "status":
            status = event.get("status")
            position = event.get("queuePosition")
            suffix = f" (queue position {position})" if isinstance(position, int) else ""
            reporter.text(f"remote job {status}{suffix}")
        elif kind == "log":
            level = str(event.get("level") or "info")
            message = str(event.get("message") or "")
            logger.log(getattr(logging, level.upper(), logging.INFO), "bridge: %s", message)
            if level in ("warning", "error", "info"):
                reporter.text(message)

    return handle


def run_remote(
    url: str,
    inputs: dict[str, Any],
    *,
    reporter: Reporter | None = None,
    token: str | None = None,
    timeout: float = 300.0,
    poll_interval: float = 1.5,
    allow_pickle: bool = False,
    transport: str = "auto",
    previews: bool = False,
) -> RemoteResult:
    """Call a comfy-remote endpoint through the bridge and return every decoded output."""

    reporter = reporter or NullReporter()
    with WorkDir() as work:
        request = build_run_request(
            url,
            inputs,
            work,
            token=token,
            timeout=timeout,
            poll_interval=poll_interval,
            allow_pickle=allow_pickle,
            transport=transport,
            previews=previews and hasattr(reporter, "preview"),
        )
        event = call_bridge(
            request,
            on_event=event_handler(reporter),
            should_cancel=reporter.should_cancel,
            hard_timeout=float(timeout) + TIMEOUT_MARGIN,
        )
        return decode_run_result(event, work.path, allow_pickle=allow_pickle, timeout=timeout,
                                 should_cancel=reporter.should_cancel, report=reporter.text)


__all__ = [
    "NullReporter",
    "RemoteResult",
    "TOKEN_ENV",
    "build_run_request",
    "check_url",
    "decode_run_result",
    "event_handler",
    "report_progress",
    "resolve_token",
    "run_remote",
    "timings_text",
]
