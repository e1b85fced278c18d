"""Large values between the generated app and ComfyUI travel as files (format A), and between the web
container and the GPU container as spawn arguments / call results (bytes, Modal's blob storage above
2 MiB): the shared-folder path, the upload + /view path, and the whole app over the in-process modal."""

import base64
import json
import os

import pytest

from scaffolder_fixtures import fake_comfy, io_helpers_comfy, modules, project  # noqa: F401 - pytest fixtures
from scaffolder_helpers import AUTH_HEADER, PROMPT, load_workflow, npy_bytes

BIG = npy_bytes(bytes((i * 7 + 3) & 255 for i in range(300_000)))
SMALL = {"type": "STRING", "encoding": "json", "data": "hello"}


def _npy(raw=BIG):
    return {"type": "IMAGE", "encoding": "npy", "data": raw}


def test_shared_folder_inputs_and_outputs_never_base64(modules, fake_comfy, tmp_path):
    """The GPU container started ComfyUI: the value is written into temp/comfy_remote and read back from there."""
    _, runner_mod = modules
    temp = tmp_path / "temp"
    runner = runner_mod.JobRunner(fake_comfy.url, json.loads(PROMPT.read_text()), poll_interval=0.02, use_websocket=False, temp_dir=str(temp))
    result = runner.run({"image": _npy()}, None, None, timeout=20)
    assert result["status"] == "completed"
    out = result["outputs"]["image"]
    assert isinstance(out["data"], bytes) and out["data"] == BIG  # bytes for the Modal result, not base64 text
    (sent,) = fake_comfy.prompts.values()
    payload = sent["prompt"]["1"]["inputs"]["payload"]
    ref = json.loads(payload)["data"]["file"]
    assert ref["subfolder"] == "comfy_remote" and ref["type"] == "temp" and ref["filename"].endswith("-1.npy")
    assert len(payload) < 300
    # this fake echoes the reference instead of reading it: the runner read the file back and deleted it
    assert not (temp / "comfy_remote" / ref["filename"]).exists()


def test_small_values_stay_inline(modules, fake_comfy, tmp_path):
    _, runner_mod = modules
    runner = runner_mod.JobRunner(fake_comfy.url, json.loads(PROMPT.read_text()), poll_interval=0.02, use_websocket=False, temp_dir=str(tmp_path))
    small = _npy(b"\x93NUMPY" + b"x" * 100)
    result = runner.run({"image": small, "label": SMALL}, None, None, timeout=20)
    (sent,) = fake_comfy.prompts.values()
    assert json.loads(sent["prompt"]["1"]["inputs"]["payload"])["data"] == base64.b64encode(small["data"]).decode()
    assert result["outputs"]["label"] == SMALL
    assert not (tmp_path / "comfy_remote").exists()


def test_json_transport_base64_inputs_are_written_as_files_too(modules, fake_comfy, tmp_path):
    _, runner_mod = modules
    runner = runner_mod.JobRunner(fake_comfy.url, json.loads(PROMPT.read_text()), poll_interval=0.02, use_websocket=False, temp_dir=str(tmp_path))
    value = {"type": "VIDEO", "encoding": "file", "mime": "video/mp4", "filename": "clip.mp4", "data": base64.b64encode(BIG).decode()}
    result = runner.run({"image": value}, None, None, timeout=20)
    (sent,) = fake_comfy.prompts.values()
    assert json.loads(sent["prompt"]["1"]["inputs"]["payload"])["data"]["file"]["filename"].endswith("-1.mp4")
    out = result["outputs"]["image"]
    assert out["data"] == BIG and out["mime"] == "video/mp4" and out["filename"] == "clip.mp4"


def test_refs_outside_our_folder_are_refused(modules, tmp_path):
    _, runner_mod = modules
    import comfy_files

    files = comfy_files.FileHandoff("http://127.0.0.1:9", str(tmp_path))
    for ref in (
        {"filename": "../x.npy", "subfolder": "comfy_remote", "type": "temp"},
        {"filename": "x.npy", "subfolder": "other", "type": "temp"},
        {"filename": "x.npy", "subfolder": "comfy_remote", "type": "output"},
    ):
        with pytest.raises(comfy_files.HandoffError) as info:
            files.read_outputs({"o": {"type": "IMAGE", "encoding": "npy", "data": {"file": ref}}})
        assert info.value.code == "COMFYUI_PROTOCOL"


def test_upload_and_view_against_the_fake_comfyui(modules, io_helpers_comfy):
    """A ComfyUI elsewhere (serve --comfyui-url): POST /upload/image, Remote Input reads and deletes, GET /view."""
    _, runner_mod = modules
    runner = runner_mod.JobRunner(io_helpers_comfy, json.loads(PROMPT.read_text()), poll_interval=0.05, use_websocket=runner_mod._websocket is not None)
    result = runner.run({"image": _npy()}, None, None, timeout=30)
    assert result["status"] == "completed", result
    assert result["outputs"]["image"]["data"] == BIG


def test_the_modal_hop_carries_bytes_both_ways(project, io_helpers_comfy):
    """web -> spawn(job, inputs) -> GPU runner -> result: 3 MiB (over Modal's 2 MiB blob threshold) as bytes."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    import comfy_wire

    big = npy_bytes(os.urandom(3 * 1024 * 1024))
    module = load_workflow(project, io_helpers_comfy)
    raw, ctype = comfy_wire.encode_multipart({"inputs": {"image": _npy(big)}})
    headers = dict(AUTH_HEADER, **{"Content-Type": ctype, "Accept": "multipart/form-data, application/json"})
    with TestClient(module.web.local()) as c:
        resp = c.post("/run?wait=60", content=raw, headers=headers)
        assert resp.status_code == 200, resp.text[:300]
        # streamed in slices, announced with its length (not chunked transfer encoding)
        assert resp.headers["content-length"] == str(len(resp.content)) and "transfer-encoding" not in resp.headers
        env = comfy_wire.decode_multipart(resp.content, resp.headers["content-type"])
    assert env["status"] == "completed"
    assert env["outputs"]["image"]["data"] == big


def test_a_value_over_the_part_size_is_uploaded_in_parts(modules, io_helpers_comfy, monkeypatch):
    """ComfyUI refuses bodies over --max-upload-size: larger values go in parts that Remote Input joins."""
    _, runner_mod = modules
    import comfy_files

    monkeypatch.setattr(comfy_files, "PART_BYTES", 256 * 1024)
    raw = _npy()["data"]
    mapped = comfy_files.FileHandoff(io_helpers_comfy).put_inputs({"1": _npy()}, tag="parts")
    refs = mapped["1"]["data"]["files"]
    assert len(refs) == -(-len(raw) // (256 * 1024)) and len(refs) > 1
    assert [r["filename"] for r in refs] == ["cr-parts-1-p%d.npy" % i for i in range(len(refs))]
    runner = runner_mod.JobRunner(io_helpers_comfy, json.loads(PROMPT.read_text()), poll_interval=0.05, use_websocket=runner_mod._websocket is not None)
    result = runner.run({"image": _npy()}, None, None, timeout=30)
    assert result["status"] == "completed", result
    assert result["outputs"]["image"]["data"] == BIG


def test_serve_on_the_same_machine_probes_and_uses_comfyuis_folder(modules, tmp_path):
    """Given only a URL (serve), the runner proves it shares temp/comfy_remote and skips upload and /view."""
    from scaffolder_helpers import start_io_helpers_comfy, stop_process

    _, runner_mod = modules
    import comfy_files

    proc, url = start_io_helpers_comfy("--temp-dir", str(tmp_path))
    try:
        assert comfy_files.probe_shared_temp(url) == (str(tmp_path), True)
        assert os.listdir(tmp_path / "comfy_remote") == []  # the probe file is gone
        runner = runner_mod.JobRunner(url, json.loads(PROMPT.read_text()), poll_interval=0.05, use_websocket=runner_mod._websocket is not None)
        result = runner.run({"image": _npy()}, None, None, timeout=30)
        assert result["status"] == "completed", result
        assert result["outputs"]["image"]["data"] == BIG
        assert runner.files.temp_dir == str(tmp_path)
        # input read by Remote Input; the output, once read, waits as a spare for the next Remote Output
        (spare,) = os.listdir(tmp_path / "comfy_remote")
        assert spare.startswith("cr-spare-")
        inode = os.stat(tmp_path / "comfy_remote" / spare).st_ino
        again = runner.run({"image": _npy()}, None, None, timeout=30)
        assert again["outputs"]["image"]["data"] == BIG
        (spare,) = os.listdir(tmp_path / "comfy_remote")
        assert os.stat(tmp_path / "comfy_remote" / spare).st_ino == inode  # written over, handed back again
    finally:
        stop_process(proc)


def test_a_folder_this_process_does_not_share_means_http(modules, io_helpers_comfy, tmp_path):
    import comfy_files

    assert comfy_files.probe_shared_temp(io_helpers_comfy) == (None, False)  # no folder route: HTTP
    assert comfy_files.probe_shared_temp("http://127.0.0.1:9") == (None, False)  # nothing listening
