"""`timings` of the generated app report cold starts: the first job of a container carries its start-up
(`cold_start: true`, and with memory snapshots whether the container was restored from one); later jobs
of the same container do not. Stub modal, FastAPI TestClient, the fake ComfyUI over real HTTP."""

import os

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from scaffolder_fixtures import fake_comfy, project  # noqa: E402, F401 - pytest fixtures
from scaffolder_helpers import load_workflow, scaffold  # noqa: E402
from test_scaffolder_web import AUTH, IMG, STR  # noqa: E402


@pytest.fixture(scope="module")
def snapshot_project(tmp_path_factory):
    return scaffold(tmp_path_factory.mktemp("snap-web"), "snap-web", "--memory-snapshot")


def run(client):
    resp = client.post("/run?wait=20", json={"inputs": {"image": IMG, "label": STR}}, headers=AUTH)
    env = resp.json()
    assert env["status"] == "completed", env
    return env["timings"]


def start(project_dir, url, restore=False):
    module = load_workflow(project_dir, url, start=False)
    module.ComfyWorker.simulate_restore = restore
    os.environ["COMFY_REMOTE_COMFYUI_URL"] = url
    try:
        module.ComfyWorker._container()
    finally:
        del os.environ["COMFY_REMOTE_COMFYUI_URL"]
    return TestClient(module.web.local())


def test_first_job_of_a_container_reports_the_cold_start(project, fake_comfy):  # noqa: F811
    with start(project, fake_comfy.url) as client:
        first, second = run(client), run(client)
    assert first["cold_start"] is True and first["startup_seconds"] > 0
    assert "restored_from_snapshot" not in first  # no snapshots in this app
    assert second["cold_start"] is False and second["startup_seconds"] == 0


@pytest.mark.parametrize("restore", [False, True])
def test_snapshot_apps_say_whether_the_container_was_restored(snapshot_project, fake_comfy, restore):  # noqa: F811
    with start(snapshot_project, fake_comfy.url, restore) as client:
        first, second = run(client), run(client)
    assert first["cold_start"] is True and first["restored_from_snapshot"] is restore
    assert first["startup_seconds"] >= 0 if restore else first["startup_seconds"] > 0  # restored: ready() only
    assert second["cold_start"] is False and "restored_from_snapshot" not in second
