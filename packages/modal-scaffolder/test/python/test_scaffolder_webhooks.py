"""Webhooks and timings of the generated app (stub modal, FastAPI TestClient, a real local receiver).
Signatures are checked by the independent `standardwebhooks` npm package (run with node) too."""

import base64
import http.server
import json
import shutil
import subprocess
import threading
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from scaffolder_fixtures import fake_comfy, project  # noqa: E402, F401 - pytest fixtures
from scaffolder_helpers import REPO, load_workflow  # noqa: E402
from test_scaffolder_web import AUTH, IMG, STR  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
VERIFIER = REPO / "apps" / "mock-worker" / "node_modules" / "standardwebhooks"


class Receiver:
    """A webhook receiver on 127.0.0.1 that records requests and answers per `behaviours` (then 200)."""

    def __init__(self):
        self.received = []
        self.behaviours = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body, "at": time.monotonic()})
                behaviour = outer.behaviours.pop(0) if outer.behaviours else 200
                if behaviour == "hang":
                    time.sleep(3)
                    return
                self.send_response(behaviour)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count, seconds=15):
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, "got %d webhook requests, expected %d" % (len(self.received), count)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver():
    r = Receiver()
    yield r
    r.close()


def app_client(project, fake_comfy, monkeypatch, secret=SECRET, loopback=True, **options):  # noqa: F811
    if secret:
        monkeypatch.setenv("COMFY_REMOTE_WEBHOOK_SECRET", secret)
    else:
        monkeypatch.delenv("COMFY_REMOTE_WEBHOOK_SECRET", raising=False)
    if loopback:
        monkeypatch.setenv("COMFY_REMOTE_ALLOW_LOOPBACK_WEBHOOKS", "1")
    else:
        monkeypatch.delenv("COMFY_REMOTE_ALLOW_LOOPBACK_WEBHOOKS", raising=False)
    module = load_workflow(project, fake_comfy.url)
    import comfy_webhooks

    for key, value in dict({"backoff_seconds": 0.02, "timeout_seconds": 1.0}, **options).items():
        monkeypatch.setitem(comfy_webhooks.DEFAULTS, key, value)
    return TestClient(module.web.local())


def job_env(client, job_id):
    return client.get("/jobs/" + job_id, headers=AUTH).json()


def wait_for(check, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def node_verify(received):
    """Verify with the standardwebhooks npm package (independent implementation); returns its payload."""
    if shutil.which("node") is None or not VERIFIER.is_dir():
        pytest.skip("node or the standardwebhooks devDependency is missing")
    script = "const {Webhook}=require(process.argv[1]);const [s,h,b]=JSON.parse(require('fs').readFileSync(0,'utf8'));process.stdout.write(JSON.stringify(new Webhook(s).verify(b,h)))"
    headers = {k: received["headers"][k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    proc = subprocess.run(["node", "-e", script, str(VERIFIER)], input=json.dumps([SECRET, headers, received["body"].decode()]), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_completed_job_is_delivered_signed_and_timed(project, fake_comfy, receiver, monkeypatch):  # noqa: F811
    with app_client(project, fake_comfy, monkeypatch) as client:
        resp = client.post("/run?wait=20", json={"inputs": {"image": IMG, "label": STR}, "webhook": {"url": receiver.url}}, headers=AUTH)
        env = resp.json()
        assert env["status"] == "completed"
        assert set(env["timings"]) == {"queue_seconds", "startup_seconds", "run_seconds", "transfer_seconds", "cold_start"}
        assert env["timings"]["run_seconds"] > 0
        receiver.wait(1)
        payload = node_verify(receiver.received[0])
        assert payload["job_id"] == env["job_id"] and payload["event"] == "completed" and payload["status"] == "completed"
        assert "webhook" not in payload
        status = wait_for(lambda: job_env(client, env["job_id"])["webhook"] if job_env(client, env["job_id"])["webhook"]["delivered"] else None)
        assert status == {"delivered": True, "attempts": 1, "last_error": None}
        time.sleep(0.3)
        assert len(receiver.received) == 1


def test_retries_with_the_same_id_then_gives_up(project, fake_comfy, receiver, monkeypatch):  # noqa: F811
    receiver.behaviours.extend([500, "hang"])
    with app_client(project, fake_comfy, monkeypatch) as client:
        env = client.post("/run?wait=20", json={"inputs": {"image": IMG}, "webhook": receiver.url}, headers=AUTH).json()
        receiver.wait(3)
        assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1
        for got in receiver.received:
            node_verify(got)
        status = wait_for(lambda: job_env(client, env["job_id"])["webhook"] if job_env(client, env["job_id"])["webhook"]["delivered"] else None)
        assert status["attempts"] == 3
    receiver.received.clear()
    receiver.behaviours.extend([500] * 10)
    with app_client(project, fake_comfy, monkeypatch, max_attempts=2) as client:
        env = client.post("/run?wait=20", json={"inputs": {"image": IMG}, "webhook": receiver.url}, headers=AUTH).json()
        status = wait_for(lambda: (lambda s: s if "gave up" in (s["last_error"] or "") else None)(job_env(client, env["job_id"])["webhook"]))
        assert status["delivered"] is False and status["attempts"] == 2
        assert "HTTP 500" in status["last_error"]
        assert len(receiver.received) == 2


def test_a_hanging_receiver_does_not_delay_the_job(project, fake_comfy, receiver, monkeypatch):  # noqa: F811
    receiver.behaviours.extend(["hang"] * 5)
    with app_client(project, fake_comfy, monkeypatch, timeout_seconds=3.0) as client:
        env = client.post("/run?wait=20", json={"inputs": {"image": IMG}, "webhook": receiver.url}, headers=AUTH).json()
        assert env["status"] == "completed"
        assert env["webhook"]["delivered"] is False


def test_no_secret_is_400_webhook_not_configured(project, fake_comfy, receiver, monkeypatch):  # noqa: F811
    with app_client(project, fake_comfy, monkeypatch, secret=None) as client:
        resp = client.post("/run", json={"inputs": {"image": IMG}, "webhook": receiver.url}, headers=AUTH)
        assert resp.status_code == 400
        assert resp.json()["error"]["code"] == "WEBHOOK_NOT_CONFIGURED"


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://203.0.113.9/hook", "http:// webhooks are refused"),
        ("https://127.0.0.1:9/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://169.254.169.254/latest", "private, link-local"),
        ("https://[::ffff:169.254.169.254]/", "private, link-local"),
        ("https://user:pw@hooks.example.com/", "credentials"),
    ],
)
def test_refused_urls_are_400(project, fake_comfy, monkeypatch, url, why):  # noqa: F811
    with app_client(project, fake_comfy, monkeypatch, loopback=False) as client:
        resp = client.post("/run", json={"inputs": {"image": IMG}, "webhook": {"url": url}}, headers=AUTH)
        assert resp.status_code == 400
        body = resp.json()["error"]
        assert body["code"] == "WEBHOOK_REFUSED" and why in body["message"]


def test_a_name_resolving_to_loopback_is_refused_after_dns(project, fake_comfy, monkeypatch):  # noqa: F811
    with app_client(project, fake_comfy, monkeypatch, loopback=False) as client:
        env = client.post("/run?wait=20", json={"inputs": {"image": IMG}, "webhook": "https://localhost:1/hook"}, headers=AUTH).json()
        status = wait_for(lambda: (lambda s: s if s["attempts"] else None)(job_env(client, env["job_id"])["webhook"]))
        assert status["delivered"] is False and status["last_error"].startswith("WEBHOOK_REFUSED: ")


def test_address_classes(project, fake_comfy, monkeypatch):  # noqa: F811
    app_client(project, fake_comfy, monkeypatch)
    import comfy_webhooks

    cases = {"8.8.8.8": "public", "127.0.0.1": "loopback", "::1": "loopback", "10.0.0.1": "private", "100.64.0.1": "private",
             "169.254.169.254": "private", "fd00:ec2::254": "private", "fe80::1": "private", "::ffff:10.0.0.1": "private", "0.0.0.0": "private"}
    assert {a: comfy_webhooks.address_class(a) for a in cases} == cases


def test_redirects_are_not_followed(project, fake_comfy, receiver, monkeypatch):  # noqa: F811
    receiver.behaviours.append(302)
    with app_client(project, fake_comfy, monkeypatch) as client:
        env = client.post("/run?wait=20", json={"inputs": {"image": IMG}, "webhook": receiver.url}, headers=AUTH).json()
        status = wait_for(lambda: (lambda s: s if s["attempts"] else None)(job_env(client, env["job_id"])["webhook"]))
        time.sleep(0.2)
        assert status["delivered"] is False and "redirects are not followed" in status["last_error"]
        assert len(receiver.received) == 1

