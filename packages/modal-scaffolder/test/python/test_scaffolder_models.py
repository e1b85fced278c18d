"""Models baked into the image and the models Volume: the generated workflow.py's download step
(run against a local HTTPS server with a throwaway CA), its Modal wiring (stub modal, strict
signatures) and its refusal of hostile URLs and paths."""

import hashlib
import http.server
import os
import shutil
import ssl
import subprocess
import threading

import pytest

from scaffolder_fixtures import project  # noqa: F401 - pytest fixture
from scaffolder_helpers import load_workflow, scaffold  # noqa: E402

PAYLOAD = b"fake-safetensors-" * 4096
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(scope="module")
def models_project(tmp_path_factory):
    return scaffold(
        tmp_path_factory.mktemp("proj-models"), "pytest-models",
        "--model", "https://huggingface.co/org/repo/resolve/main/m.safetensors?download=true=checkpoints/m.safetensors",
        "--model", "https://example.com/l.safetensors=loras/sub/l.safetensors@sha256:" + PAYLOAD_SHA,
        "--models-secret", "hf-secret", "--volume", "pytest-models-vol",
    )


@pytest.fixture(scope="module")
def wf(models_project):
    return load_workflow(models_project, None, start=False)


class _Handler(http.server.BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server's name
        _Handler.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/file"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/to-http":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/file")
            self.end_headers()
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "/file?redirected=1")
            self.end_headers()
        else:
            self.send_error(404)


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a throwaway certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    old = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(cert)  # the client trusts the throwaway cert like a system CA
    yield "https://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    if old is None:
        os.environ.pop("SSL_CERT_FILE", None)
    else:
        os.environ["SSL_CERT_FILE"] = old


def _leftovers(root):
    return [p for p in root.rglob(".download-*")]


def test_image_downloads_models_in_a_build_step_before_local_files(wf):
    names = [step[0] for step in wf.image.steps]
    i = names.index("run_function")
    assert i < min(n for n, name in enumerate(names) if name.startswith("add_local_"))
    _, (fn,), kwargs = wf.image.steps[i]
    assert fn is wf.download_models
    assert kwargs["kwargs"]["models"] == wf.MODELS and kwargs["kwargs"]["models_dir"] == "/workspace/ComfyUI/models"
    assert [(s.name, s.required_keys) for s in kwargs["secrets"]] == [("hf-secret", ["HF_TOKEN"])]
    assert [m["path"] for m in wf.MODELS] == ["checkpoints/m.safetensors", "loras/sub/l.safetensors"]
    assert wf.MODELS[0]["url"].endswith("?download=true") and wf.MODELS[1]["sha256"] == PAYLOAD_SHA


def test_gpu_class_mounts_the_volume_and_comfyui_reads_it(wf, tmp_path, monkeypatch):
    (path, volume), = wf.ComfyWorker.options["volumes"].items()
    assert volume.name == "pytest-models-vol" and path == wf.VOLUME_DIR
    monkeypatch.setattr(wf.tempfile, "gettempdir", lambda: str(tmp_path))
    args = wf.volume_args()
    assert args[0] == "--extra-model-paths-config"
    text = open(args[1], encoding="utf-8").read()
    assert text.startswith("comfy_remote_volume:\n    base_path: /workspace/volume-models\n")
    assert "    checkpoints: checkpoints\n" in text and "    loras: loras\n" in text


def test_default_project_has_no_download_step_and_no_volume(project):
    wf = load_workflow(project, None, start=False)
    assert "run_function" not in [s[0] for s in wf.image.steps]
    assert wf.ComfyWorker.options["volumes"] == {} and wf.volume_args() == []


def test_download_verifies_sha256_and_moves_into_place(wf, https_server, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    _Handler.seen.clear()
    wf.download_models([
        {"url": https_server + "/file", "path": "checkpoints/a.safetensors", "sha256": PAYLOAD_SHA},
        {"url": https_server + "/to-file", "path": "loras/deep/b.safetensors"},
    ], str(tmp_path))
    assert (tmp_path / "checkpoints" / "a.safetensors").read_bytes() == PAYLOAD
    assert (tmp_path / "loras" / "deep" / "b.safetensors").read_bytes() == PAYLOAD
    assert _leftovers(tmp_path) == []
    assert _Handler.seen == [("/file", None), ("/to-file", None), ("/file?redirected=1", None)]  # token: huggingface.co only


def test_sha256_mismatch_is_a_clear_error_and_writes_nothing(wf, https_server, tmp_path):
    with pytest.raises(wf.ModelDownloadError) as err:
        wf.download_models([{"url": https_server + "/file", "path": "vae/x.safetensors", "sha256": "0" * 64}], str(tmp_path))
    msg = str(err.value)
    assert "models[0]" in msg and "vae/x.safetensors" in msg and "sha256 mismatch" in msg and PAYLOAD_SHA in msg
    assert not (tmp_path / "vae" / "x.safetensors").exists() and _leftovers(tmp_path) == []


def test_http_errors_and_downgrade_redirects_name_the_entry(wf, https_server, tmp_path):
    with pytest.raises(wf.ModelDownloadError, match=r"models\[0\].*HTTP 404"):
        wf.download_models([{"url": https_server + "/missing", "path": "loras/m.safetensors"}], str(tmp_path))
    with pytest.raises(wf.ModelDownloadError, match=r"models\[1\].*non-https"):
        wf.download_models([
            {"url": https_server + "/file", "path": "loras/ok.safetensors"},
            {"url": https_server + "/to-http", "path": "loras/r.safetensors"},
        ], str(tmp_path))
    assert not (tmp_path / "loras" / "r.safetensors").exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/file", "ftp://example.com/x", "file:///etc/passwd", "https://user:pw@huggingface.co/x", "//huggingface.co/x"])
def test_non_https_urls_are_refused_before_any_request(wf, tmp_path, url):
    with pytest.raises(wf.ModelDownloadError, match="https"):
        wf.download_models([{"url": url, "path": "checkpoints/x.safetensors"}], str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["../x.safetensors", "checkpoints/../../x", "/etc/passwd", "x.safetensors", "checkpoints//x", "checkpoints/./x", "checkpoints\\..\\x", ""])
def test_hostile_paths_are_refused(wf, tmp_path, path):
    with pytest.raises(wf.ModelDownloadError, match="model path"):
        wf.model_destination(str(tmp_path), path)


def test_symlinked_folder_cannot_escape_the_models_dir(wf, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "models").mkdir()
    os.symlink(outside, tmp_path / "models" / "loras")
    with pytest.raises(wf.ModelDownloadError, match="outside"):
        wf.model_destination(str(tmp_path / "models"), "loras/x.safetensors")


def test_token_goes_to_huggingface_hosts_only_and_never_across_redirects(wf):
    hf = wf.model_request("https://huggingface.co/org/repo/resolve/main/x.safetensors", "tok")
    assert hf.unredirected_hdrs.get("Authorization") == "Bearer tok" and "Authorization" not in hf.headers
    assert wf.model_request("https://cdn-lfs.huggingface.co/x", "tok").unredirected_hdrs.get("Authorization") == "Bearer tok"
    for other in ("https://example.com/x", "https://huggingface.co.evil.com/x", "https://evilhuggingface.co/x"):
        assert "Authorization" not in wf.model_request(other, "tok").unredirected_hdrs
