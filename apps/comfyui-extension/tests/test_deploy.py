"""Modal Deployment: widget values -> bridge deploy request -> URL + project dir (fake bridge)."""

from __future__ import annotations

import json

import comfy_v3
import pytest

from comfy_remote.deploy import build_deploy_request, split_packages, strip_deploy_nodes
from comfy_remote.errors import BadInputError

PROMPT = {
    "1": {"class_type": "ComfyRemoteInput", "inputs": {"key": "image"}},
    "2": {"class_type": "ComfyRemoteOutput", "inputs": {"value": ["1", 0], "key": "result"}},
    "9": {"class_type": "ComfyRemoteModalDeployment", "inputs": {"workflow_path": ""}},
}


def test_request_from_widgets(tmp_path):
    wf = tmp_path / "prompt.json"
    wf.write_text(json.dumps(PROMPT))
    req = build_deploy_request(
        workflow_path=str(wf),
        app_name="my-app",
        working_directory=str(tmp_path),
        extra_pip_requirements="numpy, scipy\nopencv-python",
        extra_system_packages="ffmpeg",
        gpu_type="",
        dry_run=True,
        rebuild_modal_app=True,
    )
    assert req == {
        "op": "deploy",
        "workflow": None,
        "workflowPath": str(wf),
        "appName": "my-app",
        "workingDirectory": str(tmp_path),
        "pipPackages": ["numpy", "scipy", "opencv-python"],
        "aptPackages": ["ffmpeg"],
        "gpu": "H100",
        "deploy": True,
        "dryRun": True,
        "cleanBuild": False,
        "forceRebuild": True,
        "deleteApp": False,
    }


def test_bad_inputs_name_the_field(tmp_path):
    with pytest.raises(BadInputError, match="workflow_path"):
        build_deploy_request(workflow_path=str(tmp_path / "missing.json"))
    with pytest.raises(BadInputError, match="workflow_path is empty"):
        build_deploy_request()
    with pytest.raises(BadInputError, match="app_name"):
        build_deploy_request(workflow_path="", app_name="bad name!", current_prompt=PROMPT)
    assert split_packages(" a ,\n\n b,") == ["a", "b"]
    assert "9" not in strip_deploy_nodes(PROMPT)


def test_node_dry_run_streams_log_and_says_it_is_not_live(comfy, fake_bridge, monkeypatch, tmp_path):
    _flavour, rec, nodes = comfy
    record = tmp_path / "req.json"
    monkeypatch.setenv("FAKE_BRIDGE_RECORD", str(record))
    clone = nodes.ModalDeploymentNode.PREPARE_CLASS_CLONE({comfy_v3.Hidden.unique_id: "9", comfy_v3.Hidden.prompt: PROMPT})
    out = clone.execute(workflow_path="", deploy=True, app_name="demo", dry_run=True, extra_pip_requirements="x")
    assert out[0] == "https://dry-run.invalid/demo" and out[1] == "/tmp/modal_demo"
    texts = [c[1] for c in rec.calls if c[0] == "text"]
    assert texts[0] == "scaffolding demo" and "gpu H100; pip x" in texts
    assert "not a live endpoint" in texts[-1]
    sent = json.loads(record.read_text())
    assert sent["workflow"] == strip_deploy_nodes(PROMPT) and sent["workflowPath"] is None
    live = clone.execute(workflow_path="", deploy=True, app_name="demo", working_directory=str(tmp_path))
    assert live[0] == "https://fake--demo.modal.run" and live[1] == str(tmp_path / "demo")
    assert nodes.ModalDeploymentNode.fingerprint_inputs() != nodes.ModalDeploymentNode.fingerprint_inputs()
