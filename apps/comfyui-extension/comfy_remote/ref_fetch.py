"""Outputs the worker sent by reference, fetched by the node itself.

The bridge runs the call with ``refsToCaller``: an output the worker sends by reference reaches us as
``{..., "ref": <absolute URL>, "bytes": n, "headers": {...}}`` (URL checked by remote-client: the
endpoint's origin, or https; the token only to that origin). ``fetch_refs`` replaces each by its
bytes: up to ``IN_MEMORY_MAX`` straight from the socket into the buffer the tensor will use (no file,
no copy in the bridge), larger or unsized ones streamed into a file of the work dir and mapped. A cut
download resumes with ``Range``; redirects are not followed. Once the outputs are decoded,
``release_job`` sends the bridge's ``release`` request (``DELETE /jobs/:id/outputs``), so the worker
deletes the job's inputs and outputs at once instead of keeping them for its result TTL.
"""

from __future__ import annotations

import http.client
import logging
import os
import ssl
import threading
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from .errors import BridgeError, CancelledError
from .files import load_file, new_buffer

logger = logging.getLogger(__name__)

#: Outputs up to this size are read into memory; larger ones go through a work-dir file.
IN_MEMORY_MAX = 1024**3
CHUNK = 4 * 1024 * 1024
ATTEMPTS = 3
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class _Retry(Exception):
    """A failure worth another attempt (connection cut, 5xx)."""


def _connect(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BridgeError(f"output ref {url!r} is not an http(s) URL", code="MALFORMED_RESPONSE")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    return conn, target


class _Sink:
    """Where the bytes go: a buffer of the announced size (``new_buffer``), or a work-dir file."""

    def __init__(self, size: int | None, path: str):
        self.size = size
        self.buf = new_buffer(size) if size is not None and size <= IN_MEMORY_MAX else None
        self.path = path
        self.fh = None if self.buf is not None else open(path, "xb")  # noqa: SIM115 - closed in finish/abandon
        self.got = 0

    def restart(self) -> None:
        self.got = 0
        if self.fh is not None:
            self.fh.seek(0)
            self.fh.truncate()

    def read_from(self, resp: http.client.HTTPResponse, url: str, should_cancel: Callable[[], bool]) -> None:
        scratch = bytearray(CHUNK) if self.buf is None else None
        while True:
            if should_cancel():
                raise CancelledError("cancelled while downloading an output")
            if self.buf is not None:
                assert self.size is not None
                if self.got >= self.size:
                    if resp.read(1):
                        raise BridgeError(f"output {url} sent more than the {self.size} bytes it announced",
                                          code="MALFORMED_RESPONSE")
                    return
                n = resp.readinto(memoryview(self.buf)[self.got:min(self.size, self.got + CHUNK)])
            else:
                assert scratch is not None and self.fh is not None
                n = resp.readinto(scratch)
                if n:
                    self.fh.write(memoryview(scratch)[:n])
            if not n:
                return
            self.got += n
            if self.size is not None and self.got > self.size:
                raise BridgeError(f"output {url} sent more than the {self.size} bytes it announced",
                                  code="MALFORMED_RESPONSE")

    def finish(self) -> bytearray | memoryview:
        if self.buf is not None:
            return self.buf
        assert self.fh is not None
        self.fh.close()
        with open(self.path, "rb") as fh:
            return load_file(fh)

    def abandon(self) -> None:
        if self.fh is not None:
            self.fh.close()
            try:
                os.unlink(self.path)
            except OSError:
                pass


def fetch_ref(
    url: str,
    headers: dict[str, str],
    size: int | None,
    path: str,
    *,
    timeout: float,
    should_cancel: Callable[[], bool] = lambda: False,
) -> bytearray | memoryview:
    """The bytes behind one ref (see the module doc); ``path`` is the work-dir file used above IN_MEMORY_MAX."""

    sink = _Sink(size, path)
    last: BaseException | None = None
    try:
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(0.2 * 2**attempt)
            conn, target = _connect(url, timeout)
            try:
                sent = dict(headers)
                if sink.got:
                    sent["Range"] = f"bytes={sink.got}-"
                conn.request("GET", target, headers=sent)
                resp = conn.getresponse()
                if resp.status >= 400:
                    text = resp.read(2000).decode("utf-8", "replace")
                    # remote-client's codes for the same answers (docs/troubleshooting.md)
                    code = {401: "UNAUTHORIZED", 403: "UNAUTHORIZED", 404: "NOT_FOUND"}.get(resp.status, "HTTP_ERROR")
                    error = BridgeError(f"output {url} answered HTTP {resp.status}: {text[:500]}", code=code)
                    if resp.status in RETRY_STATUSES:
                        raise _Retry() from error
                    raise error
                if sink.got and resp.status != 206:
                    sink.restart()  # the server sent the whole body again
                sink.read_from(resp, url, should_cancel)
                if size is None or sink.got == size:
                    return sink.finish()
                raise _Retry(f"output {url} ended after {sink.got} of {size} bytes")
            except (_Retry, OSError, http.client.HTTPException) as exc:
                last = exc.__cause__ or exc
                logger.info("comfy-remote: output download %s failed (%s); attempt %d of %d",
                            url, last, attempt + 1, ATTEMPTS)
            finally:
                conn.close()
        raise BridgeError(f"output {url} could not be downloaded: {last}", code="NETWORK")
    except BaseException:
        sink.abandon()
        raise


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("ref"), str) and "encoding" in value


def fetch_refs(
    values: list[Any],
    work_dir: str,
    *,
    timeout: float,
    should_cancel: Callable[[], bool] = lambda: False,
    report: Callable[[str], None] = lambda _message: None,
) -> list[Any]:
    """``values`` with every ref (also nested in object/list values) replaced by ``data`` = its bytes;
    a ref that several values share (the result and its output) is fetched once. ``report`` is told
    what is downloaded before it starts (the node's progress text)."""

    fetched: dict[str, Any] = {}
    count = [0]
    sizes: dict[str, int] = {}

    def survey(value: Any) -> None:
        if _is_ref(value):
            size = value.get("bytes")
            sizes[value["ref"]] = size if isinstance(size, int) and size >= 0 else 0
        elif isinstance(value, dict) and value.get("encoding") in ("object", "list"):
            data = value.get("data")
            for item in (data.values() if isinstance(data, dict) else data if isinstance(data, list) else []):
                survey(item)

    for value in values:
        survey(value)
    if sizes:
        report(f"downloading {len(sizes)} output(s), {sum(sizes.values()) / 2**20:.1f} MiB")

    def swap(value: Any) -> Any:
        if _is_ref(value):
            ref = value["ref"]
            if ref not in fetched:
                count[0] += 1
                size = value.get("bytes")
                size = size if isinstance(size, int) and size >= 0 else None
                headers = value.get("headers") if isinstance(value.get("headers"), dict) else {}
                path = os.path.join(work_dir, f"ref-{count[0]}.bin")
                fetched[ref] = fetch_ref(ref, {str(k): str(v) for k, v in headers.items()}, size, path,
                                         timeout=timeout, should_cancel=should_cancel)
            rest = {k: v for k, v in value.items() if k not in ("ref", "bytes", "headers")}
            return {**rest, "data": fetched[ref]}
        if isinstance(value, dict) and value.get("encoding") == "object" and isinstance(value.get("data"), dict):
            return {**value, "data": {k: swap(v) for k, v in value["data"].items()}}
        if isinstance(value, dict) and value.get("encoding") == "list" and isinstance(value.get("data"), list):
            return {**value, "data": [swap(v) for v in value["data"]]}
        return value

    return [swap(value) for value in values]


def release_job(request: Any, timeout: float = 10.0) -> threading.Thread | None:
    """Send the bridge's ``release`` (``{url, headers}``: ``DELETE /jobs/:id/outputs``) in the background.
    Best effort: a worker without the route (404/405) or any error changes nothing for the call."""

    if not isinstance(request, dict) or not isinstance(request.get("url"), str):
        return None
    url = request["url"]
    raw = request.get("headers")
    headers = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def send() -> None:
        try:
            conn, target = _connect(url, timeout)
            try:
                conn.request("DELETE", target, headers=headers)
                resp = conn.getresponse()
                resp.read(2000)
                logger.debug("comfy-remote: released %s (HTTP %d)", url, resp.status)
            finally:
                conn.close()
        except Exception as exc:  # noqa: BLE001 - the worker drops the job at its TTL anyway
            logger.debug("comfy-remote: releasing %s failed: %s", url, exc)

    thread = threading.Thread(target=send, name="comfy-remote-release", daemon=True)
    thread.start()
    return thread


__all__ = ["IN_MEMORY_MAX", "fetch_ref", "fetch_refs", "release_job"]
