"""The runner and the generated web app against the io-helpers fake ComfyUI (a separate process
speaking HTTP and /ws as recorded from ComfyUI 0.3.64): progress over the websocket, results from
/history, cancel through /interrupt."""

import json
import time

import pytest

from scaffolder_fixtures import io_helpers_comfy, modules, project, slow_io_helpers_comfy  # noqa: F401 - pytest fixtures
from scaffolder_helpers import AUTH_HEADER, PROMPT, load_workflow

STR = {"type": "STRING", "encoding": "json", "data": "hello"}


def test_runner_follows_ws_progress(modules, io_helpers_comfy):
    _, runner_mod = modules
    if runner_mod._websocket is None:
        pytest.skip("no websocket-client here (pip install websocket-client / apt-get install python3-websocket)")
    runner = runner_mod.JobRunner(io_helpers_comfy, json.loads(PROMPT.read_text()))
    seen = []
    result = runner.run({"image": STR, "label": dict(STR, data="lbl")}, seen.append, lambda: False, timeout=30)
    assert result["status"] == "completed"
    assert result["outputs"] == {"image": STR, "label": dict(STR, data="lbl")}
    steps = [p for p in seen if p["max"] == 3 and p["message"].startswith("node ")]
    assert [p["value"] for p in steps][:3] == [1, 2, 3] or [p["value"] for p in steps][:3] == [0, 1, 2]
    assert seen[-1] == {"value": 1, "max": 1, "message": "completed"}


def test_runner_polls_history_without_websocket(modules, io_helpers_comfy):
    _, runner_mod = modules
    runner = runner_mod.JobRunner(io_helpers_comfy, json.loads(PROMPT.read_text()), poll_interval=0.05, use_websocket=False)
    assert runner.run({"image": STR}, None, None, timeout=30)["outputs"]["image"] == STR


def test_web_app_submit_result_and_cancel(project, slow_io_helpers_comfy):
    fastapi = pytest.importorskip("fastapi")  # noqa: F841
    from fastapi.testclient import TestClient

    module = load_workflow(project, slow_io_helpers_comfy)
    with TestClient(module.web.local()) as c:
        job = c.post("/run", json={"inputs": {"image": STR}}, headers=AUTH_HEADER).json()
        assert job["status"] in ("pending", "running")
        env = c.get("/jobs/%s?wait=5" % job["job_id"], headers=AUTH_HEADER).json()
        assert env["job_id"] == job["job_id"]
        assert c.delete("/jobs/" + job["job_id"], headers=AUTH_HEADER).json()["status"] == "cancelled"
        # the runner interrupted ComfyUI and returns: the next job runs to the end
        deadline = time.monotonic() + 40
        done = c.post("/run?wait=40", json={"inputs": {"image": dict(STR, data="second")}}, headers=AUTH_HEADER).json()
        while done["status"] not in ("completed", "failed", "cancelled") and time.monotonic() < deadline:
            done = c.get("/jobs/%s?wait=5" % done["job_id"], headers=AUTH_HEADER).json()
        assert done["status"] == "completed", done
        assert done["outputs"]["image"]["data"] == "second"
