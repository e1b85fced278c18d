"""The generated web app: inputs by ref (SSRF-safe fetch), outputs by ref with Range, the streaming
multipart reader; the same rules as the mock worker."""

import base64
import http.server
import threading

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from scaffolder_fixtures import io_helpers_comfy, project  # noqa: E402,F401 - pytest fixtures
from scaffolder_helpers import TOKEN, load_workflow, npy_bytes  # noqa: E402

AUTH = {"Authorization": "Bearer " + TOKEN}
BIG = npy_bytes(bytes(range(256)) * 12288, "<f4")


class Origin:
    """A local HTTP server standing in for where refs point."""

    def __enter__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.startswith("/redirect?to="):
                    import urllib.parse

                    self.send_response(302)
                    self.send_header("Location", urllib.parse.unquote(self.path.split("=", 1)[1]))
                    self.end_headers()
                elif self.path == "/image.npy":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(BIG)))
                    self.end_headers()
                    self.wfile.write(BIG)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def origin():
    with Origin() as o:
        yield o


def make_client(project, comfy_url, **settings):
    # the io-helpers fake ComfyUI: large values reach it through /upload/image and come back by /view
    module = load_workflow(project, comfy_url)
    import comfy_web

    base = {"app_name": "t", "auth_mode": "token", "token_env": "COMFY_REMOTE_TOKEN", "wait_max_seconds": 30, "max_request_bytes": 64 << 20}
    base.update(settings)
    return TestClient(comfy_web.build_app(module.ModalBackend(), module.load_prompt(), module.CONTRACT, base))


def run(client, value, **extra):
    body = dict({"inputs": {"image": value}}, **extra)
    return client.post("/run?wait=20", json=body, headers=AUTH)


def ref(url):
    return {"type": "IMAGE", "encoding": "npy", "ref": url}


def test_input_ref_is_fetched_with_dev_flags(project, io_helpers_comfy, origin):
    with make_client(project, io_helpers_comfy, allow_private_refs=True, allow_http_refs=True) as client:
        resp = run(client, ref(origin.url + "/image.npy"))
        assert resp.status_code == 200, resp.text
        assert base64.b64decode(resp.json()["result"]["data"]) == BIG


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.npy",  # scheme
        "https://127.0.0.1/x.npy",
        "https://10.1.2.3/x.npy",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/x.npy",
        "https://[::ffff:127.0.0.1]/x.npy",
        "https://[fd00:ec2::254]/x.npy",
        "https://localhost/x.npy",  # a name resolving to loopback
    ],
)
def test_refs_to_private_targets_are_refused(project, io_helpers_comfy, url):
    with make_client(project, io_helpers_comfy) as client:
        resp = run(client, ref(url))
        assert resp.status_code == 400, resp.text
        error = resp.json()["error"]
        assert error["code"] == "REF_REFUSED" and error["message"].startswith("inputs.image.ref:")


def test_redirects_are_checked_again(project, io_helpers_comfy, origin):
    # only 127.0.0.1 counts as allowed here, standing in for a public origin
    with make_client(project, io_helpers_comfy, allow_http_refs=True, ref_address_filter=lambda a: a == "127.0.0.1") as client:
        assert run(client, ref(origin.url + "/redirect?to=/image.npy")).status_code == 200
        for to in ("http://127.0.0.2:9/x", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"):
            resp = run(client, ref(origin.url + "/redirect?to=" + to))
            assert resp.status_code == 400 and resp.json()["error"]["code"] == "REF_REFUSED", to


def test_ref_size_and_upstream_errors(project, io_helpers_comfy, origin):
    with make_client(project, io_helpers_comfy, allow_private_refs=True, allow_http_refs=True, ref_max_bytes=1000) as client:
        resp = run(client, ref(origin.url + "/image.npy"))
        assert resp.status_code == 413 and resp.json()["error"]["code"] == "REF_TOO_LARGE"
        resp = run(client, ref(origin.url + "/missing"))
        assert resp.status_code == 502 and resp.json()["error"]["code"] == "REF_FETCH_FAILED"
        resp = run(client, {"type": "STRING", "encoding": "json", "ref": origin.url + "/x"})
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "BAD_REQUEST"


def test_output_refs_and_range(project, io_helpers_comfy):
    data = {"type": "IMAGE", "encoding": "npy", "data": base64.b64encode(BIG).decode()}
    with make_client(project, io_helpers_comfy) as client:
        env = run(client, data, output_refs=True).json()
        assert env["status"] == "completed"
        result = env["result"]
        assert "data" not in result and result["bytes"] == len(BIG)
        assert result["ref"] == "/jobs/%s/outputs/image" % env["job_id"]
        assert client.get(result["ref"]).status_code == 401  # same auth
        whole = client.get(result["ref"], headers=AUTH)
        assert whole.status_code == 200 and whole.content == BIG and whole.headers["accept-ranges"] == "bytes"
        part = client.get(result["ref"], headers=dict(AUTH, Range="bytes=100-1099"))
        assert part.status_code == 206 and part.content == BIG[100:1100]
        assert part.headers["content-range"] == "bytes 100-1099/%d" % len(BIG)
        tail = client.get(result["ref"], headers=dict(AUTH, Range="bytes=-10"))
        assert tail.status_code == 206 and tail.content == BIG[-10:]
        outside = client.get(result["ref"], headers=dict(AUTH, Range="bytes=%d-" % len(BIG)))
        assert outside.status_code == 416 and outside.headers["content-range"] == "bytes */%d" % len(BIG)
        assert outside.json()["error"]["code"] == "RANGE_NOT_SATISFIABLE"
        assert client.get("/jobs/%s/outputs/nope" % env["job_id"], headers=AUTH).status_code == 404
        # without output_refs the value stays inline
        plain = run(client, data).json()
        assert plain["result"]["data"] == data["data"]


def test_streaming_multipart_reader_matches_the_whole_body_reader(project):
    import sys

    sys.path.insert(0, str(project))
    import comfy_wire

    message = {"inputs": {"a": {"type": "IMAGE", "encoding": "npy", "data": BIG}, "b": {"type": "MASK", "encoding": "npy", "data": b"\r\n--x" * 1000}}}
    raw, ctype = comfy_wire.encode_multipart(message)
    for size in (61, 4096, 65536, 1 << 20):
        stream = comfy_wire.MultipartStream(ctype)
        for i in range(0, len(raw), size):
            stream.feed(raw[i : i + size])
        assert stream.finish() == message, size
    small_raw, small_ctype = comfy_wire.encode_multipart({"inputs": {"b": message["inputs"]["b"]}})
    byte_by_byte = comfy_wire.MultipartStream(small_ctype)
    for i in range(len(small_raw)):
        byte_by_byte.feed(small_raw[i : i + 1])
    assert byte_by_byte.finish() == {"inputs": {"b": message["inputs"]["b"]}}
    truncated = comfy_wire.MultipartStream(ctype)
    truncated.feed(raw[:-10])
    with pytest.raises(comfy_wire.WireError) as info:
        truncated.finish()
    assert "closing boundary" in info.value.message
    small = comfy_wire.MultipartStream(ctype, json_limit=10)
    with pytest.raises(comfy_wire.WireError) as info:
        small.feed(raw)
    assert info.value.code == "PAYLOAD_TOO_LARGE"
