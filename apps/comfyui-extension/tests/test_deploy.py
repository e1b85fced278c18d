"""Modal Deployment: widget values -> bridge deploy request -> URL + project dir (fake bridge)."""

from __future__ import annotations

import json
import os
import shutil

import comfy_v3
import pytest

from comfy_remote.deploy import build_deploy_request, split_model_specs, split_packages, strip_deploy_nodes
from comfy_remote.errors import BadInputError, BridgeError

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
        "models": [],
        "modelsSecret": None,
        "volume": None,
        "memorySnapshot": False,
        "gpuSnapshot": False,
        "warmup": False,
        "startupTimeoutSeconds": 900,
    }


def test_cold_start_inputs_reach_the_request_and_bad_combinations_name_the_widget():
    req = build_deploy_request(current_prompt=PROMPT, memory_snapshot=True, gpu_snapshot=True, warmup=True, startup_timeout=1800)
    assert (req["memorySnapshot"], req["gpuSnapshot"], req["warmup"], req["startupTimeoutSeconds"]) == (True, True, True, 1800)
    with pytest.raises(BadInputError, match="gpu_snapshot needs memory_snapshot.*Memory Snapshot"):
        build_deploy_request(current_prompt=PROMPT, gpu_snapshot=True)
    for bad in (5, 3601, 2.5, True):
        with pytest.raises(BadInputError, match="startup_timeout"):
            build_deploy_request(current_prompt=PROMPT, startup_timeout=bad)


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


MODELS_TEXT = """
# base model
https://huggingface.co/org/repo/resolve/main/m.safetensors=checkpoints/m.safetensors

  https://example.com/l.safetensors=loras/l.safetensors@sha256:%s  
""" % ("ab" * 32)


def test_models_widgets_become_specs_secret_and_volume():
    specs = split_model_specs(MODELS_TEXT)
    assert specs == [
        "https://huggingface.co/org/repo/resolve/main/m.safetensors=checkpoints/m.safetensors",
        "https://example.com/l.safetensors=loras/l.safetensors@sha256:" + "ab" * 32,
    ]
    req = build_deploy_request(current_prompt=PROMPT, models=MODELS_TEXT, models_secret=" hf ", volume=" vol ")
    assert (req["models"], req["modelsSecret"], req["volume"]) == (specs, "hf", "vol")
    blank = build_deploy_request(current_prompt=PROMPT, models="\n# none\n", models_secret=" ", volume="")
    assert (blank["models"], blank["modelsSecret"], blank["volume"]) == ([], None, None)


def test_node_sends_models_through_the_bridge(comfy, fake_bridge, monkeypatch, tmp_path):
    _flavour, _rec, nodes = comfy
    record = tmp_path / "req.json"
    monkeypatch.setenv("FAKE_BRIDGE_RECORD", str(record))
    clone = nodes.ModalDeploymentNode.PREPARE_CLASS_CLONE({comfy_v3.Hidden.unique_id: "9", comfy_v3.Hidden.prompt: PROMPT})
    clone.execute(workflow_path="", deploy=True, app_name="demo", dry_run=True, models=MODELS_TEXT, models_secret="hf", volume="vol")
    sent = json.loads(record.read_text())
    assert sent["models"] == split_model_specs(MODELS_TEXT)
    assert (sent["modelsSecret"], sent["volume"]) == ("hf", "vol")


PACK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL_BRIDGE = os.path.join(PACK_DIR, "bridge", "bridge.mjs")


@pytest.mark.skipif(not os.path.isfile(REAL_BRIDGE), reason="bridge/bridge.mjs is not built (pnpm build)")
@pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("COMFY_REMOTE_NODE"), reason="no node")
def test_node_models_through_the_real_bridge(comfy, monkeypatch, tmp_path):
    """Dry run (modal is never called): the project's modal_config.json has the models; bad specs fail by name."""

    _flavour, _rec, nodes = comfy
    monkeypatch.delenv("COMFY_REMOTE_BRIDGE", raising=False)
    clone = nodes.ModalDeploymentNode.PREPARE_CLASS_CLONE({comfy_v3.Hidden.unique_id: "9", comfy_v3.Hidden.prompt: PROMPT})
    args = {"workflow_path": "", "deploy": True, "app_name": "demo", "dry_run": True, "working_directory": str(tmp_path)}
    out = clone.execute(**args, models=MODELS_TEXT, models_secret="hf", volume="vol")
    config = json.loads((tmp_path / "demo" / "modal_config.json").read_text())
    assert out[1] == str(tmp_path / "demo")
    assert [m["path"] for m in config["models"]] == ["checkpoints/m.safetensors", "loras/l.safetensors"]
    assert config["models"][1]["sha256"] == "ab" * 32
    assert (config["models_secret"], config["volume"]) == ("hf", "vol")
    bad = MODELS_TEXT + "https://example.com/x.safetensors=../../etc/x\n"
    with pytest.raises(BridgeError) as info:
        clone.execute(**args, models=bad)
    assert info.value.code == "INVALID_OPTIONS" and "models[2].path" in str(info.value)
