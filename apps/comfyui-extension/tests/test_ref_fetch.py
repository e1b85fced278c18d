"""Outputs sent by reference, fetched by the node itself (comfy_remote.ref_fetch), against a real local
HTTP server: bit-exact bytes into memory or through a work-dir file, the headers sent, a cut download
resumed with Range, refused and broken answers, cancellation, a ref shared by result and output."""

from __future__ import annotations

import http.server
import os
import threading

import numpy as np
import pytest

from comfy_remote import ref_fetch
from comfy_remote.codec import decode_value
from comfy_remote.errors import BridgeError, CancelledError
from comfy_remote.npy import encode_npy

PAYLOAD = os.urandom(3 * 1024 * 1024 + 17)


class Server:
    """Serves PAYLOAD at /out (Range aware); `plan` says what the next answers do."""

    def __init__(self):
        self.requests: list[dict] = []
        self.plan: list[str] = []
        self.body = PAYLOAD
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                outer.requests.append({"path": self.path, "headers": dict(self.headers)})
                step = outer.plan.pop(0) if outer.plan else "ok"
                errors = {"404": b"not found", "503": b"busy"}
                if step in errors:
                    self.send_response(int(step))
                    self.send_header("content-length", str(len(errors[step])))
                    self.end_headers()
                    self.wfile.write(errors[step])
                    return
                body, status, start = outer.body, 200, 0
                rng = self.headers.get("Range")
                if rng and step != "ignore-range":
                    start = int(rng.split("=")[1].rstrip("-"))
                    status = 206
                part = body[start:]
                if step == "extra":
                    part += b"!"
                self.send_response(status)
                if status == 206:
                    self.send_header("content-range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("content-length", str(len(part)))
                self.end_headers()
                if step in ("cut", "ignore-range-cut"):
                    self.wfile.write(part[: len(part) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(part)

        class Quiet(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a cut connection is the point of some tests
                pass

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/out"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def fetch(server, tmp_path, size=len(PAYLOAD), **kw):
    return ref_fetch.fetch_ref(server.url, {"Authorization": "Bearer t0k"}, size, str(tmp_path / "ref-1.bin"),
                               timeout=10, **kw)


def test_bytes_come_into_memory_bit_exact_with_the_headers(server, tmp_path):
    got = fetch(server, tmp_path)
    assert bytes(got) == PAYLOAD and not memoryview(got).readonly  # a tensor may be built on it in place
    assert server.requests[0]["headers"]["Authorization"] == "Bearer t0k"
    assert os.listdir(tmp_path) == []  # no file in memory mode


def test_large_or_unsized_outputs_go_through_a_work_dir_file(server, tmp_path, monkeypatch):
    monkeypatch.setattr(ref_fetch, "IN_MEMORY_MAX", 1024)
    got = fetch(server, tmp_path)
    assert bytes(got) == PAYLOAD and os.listdir(tmp_path) == ["ref-1.bin"]
    unsized = ref_fetch.fetch_ref(server.url, {}, None, str(tmp_path / "ref-2.bin"), timeout=10)
    assert bytes(unsized) == PAYLOAD


def test_a_cut_download_resumes_with_range(server, tmp_path):
    server.plan = ["cut"]
    assert bytes(fetch(server, tmp_path)) == PAYLOAD
    assert "Range" not in server.requests[0]["headers"]
    assert server.requests[1]["headers"]["Range"].startswith("bytes=")
    assert int(server.requests[1]["headers"]["Range"][6:-1]) > 0


def test_a_server_that_ignores_range_sends_all_again(server, tmp_path, monkeypatch):
    monkeypatch.setattr(ref_fetch, "IN_MEMORY_MAX", 1024)  # the file is truncated, not appended to
    server.plan = ["cut", "ignore-range"]
    assert bytes(fetch(server, tmp_path)) == PAYLOAD


def test_503_is_retried_404_is_not(server, tmp_path):
    server.plan = ["503"]
    assert bytes(fetch(server, tmp_path)) == PAYLOAD
    server.requests.clear()
    server.plan = ["404"]
    with pytest.raises(BridgeError) as info:
        fetch(server, tmp_path)
    assert info.value.code == "NOT_FOUND" and "404" in str(info.value)
    assert len(server.requests) == 1


def test_more_bytes_than_announced_is_refused(server, tmp_path):
    server.plan = ["extra"]
    with pytest.raises(BridgeError) as info:
        fetch(server, tmp_path)
    assert info.value.code == "MALFORMED_RESPONSE"


def test_a_download_cut_every_time_fails_naming_the_url_and_leaves_no_file(server, tmp_path, monkeypatch):
    monkeypatch.setattr(ref_fetch, "IN_MEMORY_MAX", 1024)
    server.plan = ["ignore-range-cut"] * ref_fetch.ATTEMPTS
    with pytest.raises(BridgeError) as info:
        fetch(server, tmp_path)
    assert info.value.code == "NETWORK" and server.url in str(info.value)
    assert os.listdir(tmp_path) == []


def test_cancel_stops_the_download(server, tmp_path):
    with pytest.raises(CancelledError):
        fetch(server, tmp_path, should_cancel=lambda: True)


def test_fetch_refs_fetches_a_shared_ref_once_and_decodes_a_writable_array(server, tmp_path):
    array = np.arange(300_000, dtype=np.float32).reshape(1, 100, 1000, 3)
    server.body = encode_npy(array)
    ref = {"type": "IMAGE", "encoding": "npy", "ref": server.url, "bytes": len(server.body),
           "headers": {"Authorization": "Bearer t0k"}}
    nested = {"type": "*", "encoding": "object", "data": {"a": dict(ref)}}
    out, result, other = ref_fetch.fetch_refs([ref, dict(ref), nested], str(tmp_path), timeout=10)
    assert len(server.requests) == 1
    assert "ref" not in out and "headers" not in out and "bytes" not in out
    decoded = decode_value(out)
    assert np.array_equal(decoded, array) and decoded.flags.writeable
    assert np.array_equal(decode_value(other)["a"], array)
