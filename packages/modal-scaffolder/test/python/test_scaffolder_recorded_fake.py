"""The runner and the generated web app against the io-helpers fake ComfyUI (a separate process
speaking HTTP and /ws as recorded from ComfyUI 0.3.64): progress over the websocket, results from
/history, cancel through /interrupt."""

import base64
import json
import time

import pytest

from scaffolder_fixtures import io_helpers_comfy, modules, project, slow_io_helpers_comfy  # noqa: F401 - pytest fixtures
from scaffolder_helpers import AUTH_HEADER, PROMPT, load_workflow

STR = {"type": "*", "encoding": "json", "data": "hello"}  # untyped: the image input is IMAGE


def test_runner_follows_ws_progress(modules, io_helpers_comfy):
    _, runner_mod = modules
    if runner_mod._websocket is None:
        pytest.skip("no websocket-client here (pip install websocket-client / apt-get install python3-websocket)")
    runner = runner_mod.JobRunner(io_helpers_comfy, json.loads(PROMPT.read_text()))
    seen = []
    result = runner.run({"image": STR, "label": dict(STR, data="lbl")}, seen.append, lambda: False, timeout=30)
    assert result["status"] == "completed"
    assert result["outputs"] == {"image": STR, "label": dict(STR, data="lbl")}
    # one job progress of 0..100 (each node one unit, as the mock worker folds it), never going back,
    # naming the running node and its step
    assert seen[0] == {"value": 0, "max": 1, "message": "starting"}  # picked up, before ComfyUI has the prompt
    seen = seen[1:]
    assert all(p["max"] == 100 for p in seen)
    values = [p["value"] for p in seen]
    assert values == sorted(values) and 0 < values[-1] <= 100
    steps = dict.fromkeys(p["message"] for p in seen if p.get("message", "").startswith("Invert Image (node 2) "))
    assert list(steps)[:3] == [
        "Invert Image (node 2) 1/3",
        "Invert Image (node 2) 2/3",
        "Invert Image (node 2) 3/3",
    ]
    # per-node progress: the node and its class ride along
    assert all(p.get("class_type") for p in seen if p.get("node"))
    assert any(p.get("node") == "2" and p.get("class_type") == "ImageInvert" for p in seen)


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


def test_web_app_forwards_previews_and_per_node_progress(project):
    """ComfyUI's PREVIEW_IMAGE frames (the fake sends the recorded PNG at every sampler step) reach SSE
    clients that ask (?previews=1) and GET /jobs/:id/preview; finished envelopes carry timings."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from scaffolder_helpers import start_io_helpers_comfy, stop_process

    if not project.joinpath("comfy_runner.py").is_file():
        pytest.skip("no project")
    proc, url = start_io_helpers_comfy("--progress-steps", "4", "--step-delay-ms", "300", "--step-previews")
    try:
        module = load_workflow(project, url)
        if module.ComfyWorker._container().runner.use_websocket is False:
            pytest.skip("no websocket-client here")
        with TestClient(module.web.local()) as c:
            job = c.post("/run", json={"inputs": {"image": STR}}, headers=AUTH_HEADER).json()
            previews, progress = [], []
            text = c.get("/jobs/%s/events?previews=1" % job["job_id"], headers=AUTH_HEADER).text
            for block in text.split("\n\n"):
                fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
                if "data" in fields:
                    (previews if fields.get("event") == "preview" else progress).append(json.loads(fields["data"]))
            assert previews, "no preview events"
            for p in previews:
                assert p["mime"] == "image/png" and p.get("node") and p.get("class_type")
                assert base64.b64decode(p["data"])[:4] == b"\x89PNG"
            assert any((e.get("progress") or {}).get("class_type") for e in progress)
            final = progress[-1]
            assert final["status"] == "completed" and set(final["timings"]) >= {"queue_seconds", "run_seconds"}
            assert c.get("/jobs/%s/preview" % job["job_id"], headers=AUTH_HEADER).status_code == 404  # finished
            plain = c.get("/jobs/%s/events" % job["job_id"], headers=AUTH_HEADER).text
            assert "event: preview" not in plain
    finally:
        stop_process(proc)
