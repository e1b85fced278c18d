"""The /comfy-remote routes, called the way aiohttp would (a minimal aiohttp.web stand-in)."""

from __future__ import annotations

import asyncio
import sys
import time
import types

import pytest

from comfy_remote.errors import BadInputError
from comfy_remote.routes import DEPLOY_EVENT, deploy_request_from_body, register_routes


class Response:
    def __init__(self, body, status):
        self.body, self.status = body, status


@pytest.fixture
def web(monkeypatch):
    aiohttp = types.ModuleType("aiohttp")
    aiohttp.web = types.SimpleNamespace(json_response=lambda body, status=200: Response(body, status))
    monkeypatch.setitem(sys.modules, "aiohttp", aiohttp)
    return aiohttp.web


class Routes:
    def __init__(self):
        self.handlers = {}

    def get(self, path):
        return lambda fn: self.handlers.setdefault(("GET", path), fn)

    def post(self, path):
        return lambda fn: self.handlers.setdefault(("POST", path), fn)


class Server:
    def __init__(self):
        self.routes = Routes()
        self.sent = []

    def send_sync(self, event, data, sid=None):
        self.sent.append((event, data))


class Request:
    def __init__(self, query=None, body=None, remote="127.0.0.1"):
        self.query, self._body, self.remote = query or {}, body, remote

    async def json(self):
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


def test_registers_once_and_only_with_a_server(web):
    assert register_routes(None) is False
    server = Server()
    assert register_routes(server) and register_routes(server)
    assert set(server.routes.handlers) == {
        ("GET", "/comfy-remote/schema"),
        ("POST", "/comfy-remote/deploy"),
        ("POST", "/comfy-remote/files/release"),
        ("GET", "/comfy-remote/files/folder"),
        ("POST", "/comfy-remote/files/probe"),
    }


def test_schema_route(web, fake_bridge, monkeypatch):
    monkeypatch.setenv("COMFY_REMOTE_TOKEN", "env-token")
    server = Server()
    register_routes(server)
    handler = server.routes.handlers[("GET", "/comfy-remote/schema")]
    ok = asyncio.run(handler(Request({"url": "http://127.0.0.1:9"})))
    assert ok.status == 200 and ok.body["schema"]["inputs"][0]["name"] == "image"
    assert ok.body["schema"]["token"] == "env-token"  # (the fake echoes the token it got)
    given = asyncio.run(handler(Request({"url": "http://127.0.0.1:9", "token": "q"})))
    assert given.body["schema"]["token"] == "q"
    bad = asyncio.run(handler(Request({"url": "nope"})))
    assert bad.status == 400 and bad.body["error"]["code"] == "BAD_REQUEST" and "url" in bad.body["error"]["message"]


def test_deploy_route_streams_events(web, fake_bridge):
    server = Server()
    register_routes(server)
    handler = server.routes.handlers[("POST", "/comfy-remote/deploy")]
    body = {"workflow": {"1": {"class_type": "X", "inputs": {}}}, "appName": "demo", "dryRun": True, "pipPackages": ["a"]}
    res = asyncio.run(handler(Request(body=body)))
    assert res.status == 200
    deploy_id = res.body["deployId"]
    deadline = time.monotonic() + 20
    while not any(d.get("event") in ("result", "error") for _e, d in server.sent) and time.monotonic() < deadline:
        time.sleep(0.05)
    events = [d["event"] for e, d in server.sent if e == DEPLOY_EVENT and d["deployId"] == deploy_id]
    assert events == ["log", "progress", "log", "result"]
    result = server.sent[-1][1]
    assert result["url"] == "https://dry-run.invalid/demo" and result["dryRun"] is True and result["live"] is False


def test_deploy_route_refuses_bad_bodies_and_remote_callers(web, monkeypatch):
    monkeypatch.delenv("COMFY_REMOTE_ALLOW_REMOTE_DEPLOY", raising=False)
    server = Server()
    register_routes(server)
    handler = server.routes.handlers[("POST", "/comfy-remote/deploy")]
    assert asyncio.run(handler(Request(body={"workflow": {}}))).status == 400
    assert asyncio.run(handler(Request(body=ValueError("bad json")))).status == 400
    far = asyncio.run(handler(Request(body={"workflow": {"1": {}}}, remote="10.0.0.5")))
    assert far.status == 403 and "COMFY_REMOTE_ALLOW_REMOTE_DEPLOY" in far.body["error"]["message"]
    with pytest.raises(Exception, match="pipPackages"):
        deploy_request_from_body({"workflow": {"1": {}}, "pipPackages": [1]})
    with pytest.raises(Exception, match="models"):
        deploy_request_from_body({"workflow": {"1": {}}, "models": [1]})
    with pytest.raises(Exception, match="volume"):
        deploy_request_from_body({"workflow": {"1": {}}, "volume": ["v"]})


def test_deploy_body_models_and_volume():
    body = {"workflow": {"1": {}}, "models": "https://h/a.safetensors=checkpoints/a.safetensors\n# c\n", "volume": " v "}
    req = deploy_request_from_body(body)
    assert (req["models"], req["modelsSecret"], req["volume"]) == (["https://h/a.safetensors=checkpoints/a.safetensors"], None, "v")
    listed = deploy_request_from_body({"workflow": {"1": {}}, "models": ["https://h/a=loras/a.pt", ""], "modelsSecret": "hf"})
    assert (listed["models"], listed["modelsSecret"]) == (["https://h/a=loras/a.pt"], "hf")


def test_release_route_deletes_only_remote_output_files(web, comfy):
    import os

    _flavour, rec, _nodes = comfy
    folder = os.path.join(rec.folder_paths.get_temp_directory(), "comfy_remote")
    os.makedirs(folder, exist_ok=True)
    for name in ("cr-out-abc-1.npy", "cr-job-1.npy"):
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(b"x")
    server = Server()
    register_routes(server)
    handler = server.routes.handlers[("POST", "/comfy-remote/files/release")]
    ref = {"filename": "cr-out-abc-1.npy", "subfolder": "comfy_remote", "type": "temp"}
    ok = asyncio.run(handler(Request(body={"files": [ref]})))
    assert ok.status == 200 and ok.body == {"released": 1} and not os.path.exists(os.path.join(folder, ref["filename"]))
    assert asyncio.run(handler(Request(body={"files": [ref]}))).body == {"released": 1}  # idempotent
    for bad in (
        {"filename": "cr-job-1.npy", "subfolder": "comfy_remote", "type": "temp"},  # an input, not an output
        {"filename": "../x", "subfolder": "comfy_remote", "type": "temp"},
        {"filename": "cr-out-abc-1.npy", "subfolder": "comfy_remote", "type": "output"},
    ):
        refused = asyncio.run(handler(Request(body={"files": [bad]})))
        assert refused.status == 400 and refused.body["error"]["code"] == "BAD_FILE_REF"
    assert os.path.exists(os.path.join(folder, "cr-job-1.npy"))
    assert asyncio.run(handler(Request(body=ValueError("x")))).status == 400


def test_folder_and_probe_routes_prove_a_shared_filesystem(web, comfy):
    import os
    import secrets

    _flavour, rec, _nodes = comfy
    server = Server()
    register_routes(server)
    folder_body = asyncio.run(server.routes.handlers[("GET", "/comfy-remote/files/folder")](Request())).body
    folder = folder_body["folder"]
    assert folder == os.path.realpath(os.path.join(rec.folder_paths.get_temp_directory(), "comfy_remote"))
    assert os.path.isdir(folder)
    probe = server.routes.handlers[("POST", "/comfy-remote/files/probe")]
    name, token = f"cr-probe-{secrets.token_hex(8)}", secrets.token_hex(16)
    with open(os.path.join(folder, name), "w") as fh:
        fh.write(token)
    assert asyncio.run(probe(Request(body={"filename": name, "token": token}))).body == {"shared": True, "spares": True}
    assert not os.path.exists(os.path.join(folder, name))  # the probe file is consumed
    # a worker on another machine: no such file, or other contents -> not shared
    assert asyncio.run(probe(Request(body={"filename": name, "token": token}))).body == {"shared": False, "spares": True}
    with open(os.path.join(folder, name), "w") as fh:
        fh.write("someone else's bytes")
    assert asyncio.run(probe(Request(body={"filename": name, "token": token}))).body == {"shared": False, "spares": True}
    assert not os.path.exists(os.path.join(folder, name))
    for bad in ({"filename": "../etc/passwd", "token": token}, {"filename": "cr-out-1.npy", "token": token}, {"filename": name, "token": "short"}):
        refused = asyncio.run(probe(Request(body=bad)))
        assert refused.status == 400 and refused.body["error"]["code"] == "BAD_FILE_REF"
    assert asyncio.run(probe(Request(body=[1]))).status == 400


def test_deploy_body_cold_start():
    req = deploy_request_from_body({"workflow": {"1": {}}, "memorySnapshot": True, "warmup": True, "startupTimeoutSeconds": 1200})
    assert (req["memorySnapshot"], req["gpuSnapshot"], req["warmup"], req["startupTimeoutSeconds"]) == (True, False, True, 1200)
    assert deploy_request_from_body({"workflow": {"1": {}}})["startupTimeoutSeconds"] == 900  # an older dialog sends none
    with pytest.raises(BadInputError, match="memorySnapshot"):
        deploy_request_from_body({"workflow": {"1": {}}, "memorySnapshot": "yes"})
    with pytest.raises(BadInputError, match="gpu_snapshot needs memory_snapshot"):
        deploy_request_from_body({"workflow": {"1": {}}, "gpuSnapshot": True})
    with pytest.raises(BadInputError, match="startupTimeoutSeconds"):
        deploy_request_from_body({"workflow": {"1": {}}, "startupTimeoutSeconds": "20m"})
