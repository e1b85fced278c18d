"""The generated workflow.py's web app, imported with the stub modal and driven through FastAPI's
TestClient; its GPU worker runs jobs against a fake ComfyUI over real HTTP."""

import base64
import json
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from scaffolder_fixtures import fake_comfy, modules, open_project, project, slow_fake_comfy  # noqa: F401 - pytest fixtures
from scaffolder_helpers import TOKEN, load_workflow, npy_bytes  # noqa: E402

AUTH = {"Authorization": "Bearer " + TOKEN}
STR = {"type": "*", "encoding": "json", "data": "hello"}  # untyped: the image input is IMAGE, a STRING would be refused
NPY = npy_bytes(b"\x00\x00\x80?", "<f4")
IMG = {"type": "IMAGE", "encoding": "npy", "data": base64.b64encode(NPY).decode()}


@pytest.fixture()
def client(project, fake_comfy):
    module = load_workflow(project, fake_comfy.url)
    with TestClient(module.web.local()) as c:
        yield c


def wait_done(client, job_id, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        env = client.get("/jobs/%s?wait=2" % job_id, headers=AUTH).json()
        if env["status"] in ("completed", "failed", "cancelled"):
            return env
    raise AssertionError("job %s did not finish" % job_id)


def test_health_is_open_and_advertises_transports(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["transports"] == ["json", "multipart"] and body["auth"] == "token"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic " + TOKEN}])
def test_auth_is_required_by_default(client, headers):
    for method, path in (("GET", "/schema"), ("POST", "/run"), ("GET", "/jobs/x"), ("DELETE", "/jobs/x")):
        resp = client.request(method, path, headers=headers)
        assert resp.status_code == 401, (method, path)
        assert resp.json()["error"]["code"] == "UNAUTHORIZED"
        assert resp.headers["www-authenticate"] == 'Bearer realm="comfy-remote"'  # as the mock worker


def test_schema_reports_the_contract(client):
    body = client.get("/schema", headers=AUTH).json()
    assert [(i["name"], i["required"]) for i in body["inputs"]] == [("image", True), ("label", False)]
    assert [o["name"] for o in body["outputs"]] == ["image", "label"]


def test_submit_with_wait_returns_the_result(client, fake_comfy):
    resp = client.post("/run?wait=20", json={"inputs": {"image": IMG, "label": STR}}, headers=AUTH)
    assert resp.status_code == 200, resp.text
    env = resp.json()
    assert env["status"] == "completed" and env["poll_url"] == "/jobs/" + env["job_id"]
    assert env["outputs"] == {"image": IMG, "label": STR} and env["result"] == IMG
    (sent,) = fake_comfy.prompts.values()
    assert json.loads(sent["prompt"]["1"]["inputs"]["payload"]) == IMG
    assert fake_comfy.deleted == list(fake_comfy.prompts)


def test_submit_then_poll_original_list_form_on_root(client):
    body = {"node": {"id": "5"}, "inputs": [{"name": "input_1", "comfy_type": "*", "encoding": "identity", "data": "x"}], "input_order": ["input_1"]}
    resp = client.post("/", json=body, headers=AUTH)
    assert resp.status_code in (200, 202)
    env = wait_done(client, resp.json()["job_id"])
    assert env["status"] == "completed"
    assert env["outputs"]["image"]["data"] == "x"


def test_multipart_in_and_out(client):
    import comfy_wire

    raw, ctype = comfy_wire.encode_multipart({"inputs": {"image": IMG}})
    headers = dict(AUTH, **{"Content-Type": ctype, "Accept": "multipart/form-data, application/json"})
    resp = client.post("/run?wait=20", content=raw, headers=headers)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("multipart/form-data")
    env = comfy_wire.decode_multipart(resp.content, resp.headers["content-type"])
    assert env["status"] == "completed" and env["outputs"]["image"]["data"] == NPY
    # callers that did not ask get JSON
    assert client.get(env["poll_url"], headers=AUTH).json()["outputs"]["image"] == IMG


def test_idempotency_key_gives_the_same_job(client):
    headers = dict(AUTH, **{"Idempotency-Key": "abc-123"})
    first = client.post("/run", json={"inputs": {"image": STR}}, headers=headers)
    second = client.post("/run", json={"inputs": {"image": STR}}, headers=headers).json()
    assert first.json()["job_id"] == second["job_id"]
    if first.status_code == 202:
        assert first.headers["location"] == first.json()["poll_url"]
    conflict = client.post("/run", json={"inputs": {"image": IMG}}, headers=headers)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"


def test_idempotency_key_compares_full_inputs_not_sizes(client):
    headers = dict(AUTH, **{"Idempotency-Key": "same-size"})
    cat = {"type": "*", "encoding": "json", "data": "cat"}
    first = client.post("/run", json={"inputs": {"image": cat}}, headers=headers)
    assert first.status_code in (200, 202)
    dog = dict(cat, data="dog")
    conflict = client.post("/run", json={"inputs": {"image": dog}}, headers=headers)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"inputs": {"nope": STR}}, 400, "inputs.nope"),
        ({"inputs": {}}, 400, "inputs.image"),
        ({"inputs": {"image": dict(STR, encoding="base64+pickle")}}, 400, "inputs.image"),
        ({"inputs": 5}, 400, "inputs"),
    ],
)
def test_bad_requests_are_error_envelopes(client, body, status, field):
    resp = client.post("/run", json=body, headers=AUTH)
    assert resp.status_code == status
    env = resp.json()
    assert env["status"] == "failed" and field + ":" in env["error"]["message"]
    details = env["error"]["details"]  # the field, machine-readable (as the mock worker)
    assert (details.get("field") or details["problems"][0]).startswith(field)


def test_invalid_json_and_bad_wait_and_unknown_job(client):
    resp = client.post("/run", content=b"{nope", headers=dict(AUTH, **{"Content-Type": "application/json"}))
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "BAD_REQUEST"
    resp = client.post("/run?wait=soon", json={"inputs": {"image": STR}}, headers=AUTH)
    assert resp.status_code == 400 and resp.json()["error"]["message"].startswith("querystring.wait")
    resp = client.get("/jobs/does-not-exist", headers=AUTH)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND"


def test_events_stream_envelopes_until_done(client):
    job = client.post("/run", json={"inputs": {"image": STR}}, headers=AUTH).json()
    with client.stream("GET", "/jobs/%s/events" % job["job_id"], headers=AUTH) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[len("data: "):]) for line in resp.iter_lines() if line.startswith("data: ")]
    assert events[-1]["status"] == "completed"
    assert all(e["job_id"] == job["job_id"] for e in events)


def test_events_start_with_retry_and_omit_large_values(client):
    big = dict(STR, data="x" * (300 * 1024))
    job = client.post("/run", json={"inputs": {"image": big}}, headers=AUTH).json()
    with client.stream("GET", "/jobs/%s/events" % job["job_id"], headers=AUTH) as resp:
        assert resp.headers["cache-control"] == "no-cache, no-transform"
        lines = list(resp.iter_lines())
    assert lines[0].strip() == "retry: 1000"
    last = [json.loads(line[len("data: "):]) for line in lines if line.startswith("data: ")][-1]
    assert last["status"] == "completed" and last["values_omitted"] is True
    assert "outputs" not in last and "result" not in last
    assert client.get("/jobs/" + job["job_id"], headers=AUTH).json()["outputs"]["image"] == big


def test_unknown_routes_and_methods_are_not_found_envelopes(client):
    for method, path in (("GET", "/nope"), ("PUT", "/run"), ("POST", "/jobs/x")):
        resp = client.request(method, path, headers=AUTH)
        assert resp.status_code == 404, (method, path)
        assert resp.json()["status"] == "failed" and resp.json()["error"]["code"] == "NOT_FOUND"


def test_unsupported_content_type_is_415(client):
    resp = client.post("/run", content=b'{"inputs": {}}', headers=dict(AUTH, **{"Content-Type": "text/plain"}))
    assert resp.status_code == 415 and resp.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    ok = client.post("/run", content=json.dumps({"inputs": {"image": STR}}).encode(), headers=dict(AUTH, **{"Content-Type": "application/json; charset=utf-8"}))
    assert ok.status_code in (200, 202)


@pytest.mark.parametrize(
    "accept, has_values, multipart",
    [
        ("multipart/form-data, application/json", True, True),
        ("multipart/form-data, application/json", False, False),  # nothing binary to send: JSON
        ("multipart/form-data", False, True),  # JSON not acceptable
        ("multipart/form-data;q=0, application/json", True, False),
        ("application/json", True, False),
        (None, True, False),
    ],
)
def test_transport_negotiation_matches_the_mock_worker(modules, accept, has_values, multipart):
    wire, _ = modules
    assert wire.wants_multipart(accept, has_values) is multipart


def test_errors_are_json_when_json_is_acceptable(client):
    resp = client.get("/jobs/nope", headers=dict(AUTH, Accept="multipart/form-data, application/json"))
    assert resp.status_code == 404 and resp.headers["content-type"].startswith("application/json")


def test_payload_too_large(project, fake_comfy, monkeypatch):
    module = load_workflow(project, fake_comfy.url)
    monkeypatch.setattr(module, "MAX_REQUEST_BYTES", 2048)
    with TestClient(module.web.local()) as c:
        resp = c.post("/run", json={"inputs": {"image": dict(STR, data="x" * 5000)}}, headers=AUTH)
        assert resp.status_code == 413 and resp.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        # no Content-Length (chunked): the limit still holds
        chunked = c.post("/run", content=iter([b'{"inputs": {"image": ', b"x" * 3000, b"}}"]), headers=dict(AUTH, **{"Content-Type": "application/json"}))
        assert chunked.status_code == 413


def test_missing_secret_token_fails_closed(project, fake_comfy):
    module = load_workflow(project, fake_comfy.url, token=None)
    with TestClient(module.web.local()) as c:
        resp = c.get("/schema", headers={"Authorization": "Bearer "})
    assert resp.status_code == 503 and "COMFY_REMOTE_TOKEN" in resp.json()["error"]["message"]


def test_auth_none_project_needs_no_token(open_project, fake_comfy):
    module = load_workflow(open_project, fake_comfy.url, token=None)
    assert module.web_secrets == []
    with TestClient(module.web.local()) as c:
        assert c.get("/schema").status_code == 200


def test_cancel_interrupts_the_comfyui_run(project, slow_fake_comfy):
    module = load_workflow(project, slow_fake_comfy.url)
    with TestClient(module.web.local()) as c:
        job = c.post("/run", json={"inputs": {"image": STR}}, headers=AUTH)
        assert job.status_code == 202
        job_id = job.json()["job_id"]
        deadline = time.monotonic() + 10
        while not slow_fake_comfy.prompts and time.monotonic() < deadline:
            time.sleep(0.05)
        env = c.delete("/jobs/" + job_id, headers=AUTH).json()
        assert env["status"] == "cancelled" and env["error"]["code"] == "CANCELLED"
        assert c.get("/jobs/" + job_id, headers=AUTH).json()["status"] == "cancelled"
        deadline = time.monotonic() + 15
        while not slow_fake_comfy.interrupts and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow_fake_comfy.interrupts == [{"prompt_id": next(iter(slow_fake_comfy.prompts))}]


def test_modal_cancel_alone_interrupts_the_comfyui_run(project, slow_fake_comfy):
    """FunctionCall.cancel() raises InputCancellation inside the running call (Modal's SIGUSR1 handler
    for sync functions) before the runner sees the Dict flag: ComfyUI must still be interrupted. A call
    cancelled from outside the app (dashboard, `modal app stop`) reaches the caller as RemoteError on
    get: the job reads as cancelled, not failed."""
    import modal

    module = load_workflow(project, slow_fake_comfy.url)
    with TestClient(module.web.local()) as c:
        job_id = c.post("/run", json={"inputs": {"image": STR}}, headers=AUTH).json()["job_id"]
        deadline = time.monotonic() + 10
        while not slow_fake_comfy.prompts and time.monotonic() < deadline:
            time.sleep(0.05)
        call = modal.FunctionCall.from_id(module.jobs_store.get("job:" + job_id)["call_id"])
        call.cancel()
        with pytest.raises(modal.exception.RemoteError):  # get never raises InputCancellation
            call.get(timeout=15)
        assert slow_fake_comfy.interrupts == [{"prompt_id": next(iter(slow_fake_comfy.prompts))}]
        env = c.get("/jobs/" + job_id, headers=AUTH).json()
        assert env["status"] == "cancelled" and env["error"]["code"] == "CANCELLED"


def test_image_description_pins_and_quotes(project):
    module = load_workflow(project, "", start=False)
    steps = module.image.steps
    commands = [c for name, args, _ in steps if name == "run_commands" for c in args]
    assert any("torch==2.8.0" in c and "--index-url https://download.pytorch.org/whl/cu128" in c for c in commands)
    assert commands[-1] == "python -m pip uninstall -y utils || true"
    assert any("fetch -q --depth 1 origin v0.3.64" in c for c in commands)
    assert ("add_local_dir", (str(project / "custom_nodes" / "comfy_remote"), "/workspace/ComfyUI/custom_nodes/comfy_remote"), {}) in steps
    assert module.ComfyWorker.options["gpu"] == "H100"
    # Modal mounts add_local_* (copy=False) at container start: they must be the last steps
    local = [i for i, (name, _, _) in enumerate(steps) if name.startswith("add_local_")]
    assert local and local == list(range(len(steps) - len(local), len(steps)))
    assert [args for name, args, _ in steps if name == "add_local_python_source"] == [("comfy_wire", "comfy_heads", "comfy_app_mode", "comfy_coldstart", "comfy_files", "comfy_refs", "comfy_runner", "comfy_web", "comfy_webhooks", "utils")]


def test_proxy_auth_project_asks_modal_for_proxy_auth(tmp_path, fake_comfy):
    from scaffolder_helpers import scaffold

    module = load_workflow(scaffold(tmp_path, "pytest-proxy", "--auth", "proxy"), fake_comfy.url, token=None)
    assert module.web._fn._modal_asgi_app == {"requires_proxy_auth": True}
    assert module.web.options["secrets"] == []
    with TestClient(module.web.local()) as c:  # Modal's proxy checks Modal-Key/Modal-Secret before the app
        assert c.get("/schema").status_code == 200


def test_token_project_uses_the_named_secret(project):
    module = load_workflow(project, "", start=False)
    assert [s.name for s in module.web.options["secrets"]] == ["pytest-app-auth"]
    assert [s.required_keys for s in module.web.options["secrets"]] == [["COMFY_REMOTE_TOKEN"]]  # deploy fails early without it
    assert module.web._fn._modal_asgi_app == {"requires_proxy_auth": False}


def test_worker_fault_is_an_error_envelope(project, fake_comfy, monkeypatch):
    module = load_workflow(project, fake_comfy.url)

    def broken_spawn(self, job_id, inputs):
        raise RuntimeError("no GPU today")

    monkeypatch.setattr(module.ModalBackend, "spawn", broken_spawn)
    with TestClient(module.web.local(), raise_server_exceptions=False) as c:
        resp = c.post("/run", json={"inputs": {"image": STR}}, headers=AUTH)
    assert resp.status_code == 500
    assert resp.json()["error"] == {"code": "WORKER_ERROR", "message": resp.json()["error"]["message"]}
    assert "no GPU today" in resp.json()["error"]["message"]


def _deep(depth):
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("depth", [300, 5000, 20000])
def test_deeply_nested_json_is_a_400_not_a_recursion_500(client, depth):
    # Issue 14 defect 3: json.loads raised RecursionError (a 500 WORKER_ERROR) on deep bodies, and depths
    # it still parsed overflowed later in fingerprinting or the multipart walk.
    text = '{"inputs": {"image": {"type": "STRING", "encoding": "json", "data": %s}}}' % _deep(depth)
    headers = dict(AUTH, **{"Content-Type": "application/json", "Idempotency-Key": "deep-%d" % depth})
    resp = client.post("/run", content=text.encode(), headers=headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == "BAD_REQUEST" and "deeper than 256 levels" in resp.json()["error"]["message"]
    boundary = "xyz"
    body = ('--%s\r\nContent-Disposition: form-data; name="json"\r\nContent-Type: application/json\r\n\r\n%s\r\n--%s--\r\n' % (boundary, text, boundary)).encode()
    resp = client.post("/run", content=body, headers=dict(AUTH, **{"Content-Type": "multipart/form-data; boundary=" + boundary}))
    assert resp.status_code == 400 and "deeper than 256 levels" in resp.json()["error"]["message"]


def test_delete_with_json_content_type_and_no_body_cancels(client):
    # Issue 14 defect 7: the same contract as the mock worker (bodiless methods ignore Content-Type).
    job = client.post("/run", json={"inputs": {"image": STR}}, headers=AUTH).json()
    resp = client.delete("/jobs/%s" % job["job_id"], headers=dict(AUTH, **{"Content-Type": "application/json"}))
    assert resp.status_code == 200 and resp.json()["status"] in ("cancelled", "completed")


@pytest.mark.parametrize("length", [101, 200, 5000])
def test_long_job_ids_are_not_found_envelopes(client, length):
    resp = client.get("/jobs/" + "a" * length, headers=AUTH)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND"
