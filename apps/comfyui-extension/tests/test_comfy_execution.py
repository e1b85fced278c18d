"""The nodes through ComfyUI's own prompt path (stubs/comfy_exec.py, written from execution.py):
validation of API prompts, kwargs as execute receives them, hidden values on the class clone,
UI merged into a JSON history, and widget values of saved workflows by position."""

from __future__ import annotations

import json

import comfy_exec
import comfy_v3
import numpy as np
import pytest

from comfy_remote import registry
from comfy_remote.codec import decode_value, encoded_json
from comfy_remote.remote_call import RemoteResult
from conftest import as_np

IMAGE = np.linspace(0.0, 1.0, 2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
AG = "input_{}_$remote_inputs_ag$"


class ConstImage:  # a V1 core-style source node (like LoadImage): IMAGE, MASK
    RETURN_TYPES = ("IMAGE", "MASK")
    FUNCTION = "load"

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802
        return {"required": {"image": (["example.png"], {})}}

    def load(self, image):
        return (IMAGE.copy(), np.ones(IMAGE.shape[:3], np.float32))


class ImageInvert:  # comfy nodes.py ImageInvert
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "invert"

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802
        return {"required": {"image": ("IMAGE",)}}

    def invert(self, image):
        return (1.0 - image,)


class PreviewImage:  # an output node that only takes IMAGE
    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802
        return {"required": {"images": ("IMAGE",)}}

    def save(self, images):
        return {"ui": {"images": [{"shape": list(np.asarray(as_np(images)).shape)}]}}


@pytest.fixture(autouse=True)
def _clean_registry():
    registry.clear()
    yield
    registry.clear()


def _classes(nodes):
    from comfy_remote.extension import node_class_mappings

    return {**node_class_mappings(), "ConstImage": ConstImage, "ImageInvert": ImageInvert, "PreviewImage": PreviewImage}


def test_worker_graph_remote_input_invert_remote_output(comfy):
    """What the mock worker sends the second ComfyUI: `payload` as a literal STRING, `fallback` unconnected."""

    _flavour, _rec, nodes = comfy
    prompt = {
        "1": {"class_type": "ComfyRemoteInput", "inputs": {"key": "image", "payload": encoded_json(IMAGE)}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "ComfyRemoteOutput", "inputs": {"value": ["2", 0], "key": "result"}},
    }
    classes = _classes(nodes)
    assert comfy_exec.validate_prompt(prompt, classes) == {}
    history = comfy_exec.run_prompt(prompt, classes)
    (entry,) = history["outputs"]["3"]["remote_output"]
    assert entry["name"] == "result" and entry["value"]["type"] == "IMAGE"
    assert as_np(decode_value(entry["value"])).tobytes() == (1.0 - IMAGE).tobytes()
    assert set(history["outputs"]) == {"3"}  # Remote Input adds no UI
    # the hidden unique_id reached the class clone: the registry bucket is keyed by the node id
    assert set(registry.pop_output("3")) == {"result"}


def test_remote_output_accepts_any_link_and_its_value_feeds_image_inputs(comfy):
    _flavour, _rec, nodes = comfy
    prompt = {
        "1": {"class_type": "ConstImage", "inputs": {"image": "example.png"}},
        "2": {"class_type": "ComfyRemoteOutput", "inputs": {"value": ["1", 1], "key": "mask"}},  # MASK into *
        "3": {"class_type": "ComfyRemoteOutput", "inputs": {"value": ["1", 0], "key": "image"}},  # IMAGE into *
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},  # * into IMAGE
    }
    history = comfy_exec.run_prompt(prompt, _classes(nodes))
    assert history["outputs"]["2"]["remote_output"][0]["value"]["type"] == "MASK"
    assert history["outputs"]["4"]["images"] == [{"shape": [2, 4, 5, 3]}]


def test_a_wrong_literal_is_rejected_like_comfyui_does(comfy):
    _flavour, _rec, nodes = comfy
    prompt = {"1": {"class_type": "ComfyRemoteNode", "inputs": {"url": "http://x", "request_timeout": 99999.0, "poll_interval": "abc"}}}
    errors = {e["type"] for e in comfy_exec.validate_prompt(prompt, _classes(nodes))["1"]}
    assert {"value_bigger_than_max", "invalid_input_type"} <= errors


def _slot_keys(flavour: str, legacy: bool) -> list[str]:
    if flavour == "0.3.64" or legacy:
        return [AG.format(1), AG.format(3)]
    if flavour == "0.26":
        return ["remote_inputs.input0", "remote_inputs.input2"]
    return ["input_1", "input_3"]


@pytest.mark.parametrize("legacy", [False, True], ids=["native-names", "saved-0.3.64-names"])
def test_remote_api_autogrow_links_validate_and_reach_the_request(comfy, monkeypatch, legacy):
    flavour, _rec, nodes = comfy
    if legacy and flavour == "fixed":
        pytest.skip("0.3.48-0.3.5x never had the autogrow names")
    sent = {}

    def fake_run_remote(url, inputs, **kwargs):
        sent.update(inputs)
        return RemoteResult(result=next(iter(inputs.values())), outputs=dict(inputs))

    monkeypatch.setattr(nodes.remote_api, "run_remote", fake_run_remote)
    first, third = _slot_keys(flavour, legacy)
    prompt = {
        "1": {"class_type": "ConstImage", "inputs": {"image": "example.png"}},
        "2": {
            "class_type": "ComfyRemoteNode",
            "inputs": {
                "url": "http://127.0.0.1:9/x",
                "request_timeout": 300,
                "poll_interval": 1.5,
                first: ["1", 0],
                third: ["1", 1],
                "input_names": "image, , mask",
            },
        },
        "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
    }
    history = comfy_exec.run_prompt(prompt, _classes(nodes))
    assert sorted(sent) == ["image", "mask"]
    assert as_np(sent["image"]).tobytes() == IMAGE.tobytes()
    assert history["values"]["2"][1] == sent  # second output: every remote output by name


def test_remote_api_without_inputs_on_the_autogrow_flavour(comfy, monkeypatch):
    flavour, _rec, nodes = comfy
    if flavour != "0.26":
        pytest.skip("0.3.6x and fixed keep the original min of 1")
    monkeypatch.setattr(nodes.remote_api, "run_remote", lambda url, inputs, **kw: RemoteResult(result=len(inputs), outputs={}))
    prompt = {
        "2": {"class_type": "ComfyRemoteNode", "inputs": {"url": "http://127.0.0.1:9/x"}},
        "3": {"class_type": "ComfyRemoteOutput", "inputs": {"value": ["2", 0], "key": "n"}},
    }
    history = comfy_exec.run_prompt(prompt, _classes(nodes))
    assert history["values"]["2"][0] == 0  # remote_inputs={} arrived (ComfyUI's EMPTY_DICT default)


def test_remote_api_through_the_prompt_drives_the_node_progress_bar(comfy, fake_bridge):
    flavour, rec, nodes = comfy
    first, _third = _slot_keys(flavour, legacy=False)
    prompt = {
        "5": {"class_type": "ConstImage", "inputs": {"image": "example.png"}},
        "6": {"class_type": "ComfyRemoteNode", "inputs": {"url": "http://127.0.0.1:9/echo", "request_timeout": 30, "poll_interval": 0.2, first: ["5", 0]}},
        "7": {"class_type": "PreviewImage", "inputs": {"images": ["6", 0]}},
    }
    history = comfy_exec.run_prompt(prompt, _classes(nodes))
    assert as_np(history["values"]["6"][0]).tobytes() == IMAGE.tobytes()
    bars = [c[1:] for c in rec.calls if c[0] == "bar"]
    assert bars[-1] == (1.0, 1.0, "6") and (2.0, 3.0, "6") in bars
    assert {c[2] for c in rec.calls if c[0] == "text"} == {"6"}


# ---- saved workflows: widget values by position -------------------------------------------------

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
ORIGINAL_WIDGETS = {  # the original nodes' widgets in the editor's order (input_order: required, then optional)
    "ComfyRemoteInput": ["key"],
    "ComfyRemoteOutput": ["key"],
    "ComfyRemoteNode": ["url", "request_timeout", "poll_interval"],
    "ComfyRemoteModalDeployment": [
        "workflow_path",
        "deploy",
        "app_name",
        "working_directory",
        "extra_pip_requirements",
        "extra_system_packages",
        "gpu_type",
        "dry_run",
        "clean_build",
        "rebuild_modal_app",
        "delete_modal_app",
    ],
}
SAVED_VALUES = {
    "ComfyRemoteInput": ["image"],
    "ComfyRemoteOutput": ["result"],
    "ComfyRemoteNode": ["http://127.0.0.1:9/x", 120, 0.5],
    "ComfyRemoteModalDeployment": ["/w/workflow.json", False, "my-app", "", "numpy, scipy", "ffmpeg", "", True, False, False, False],
}


def widget_names(info: dict) -> list[str]:
    """Widgets a node shows, in the order the editor stores widgets_values (io-helpers widgetSlots)."""

    inputs = {**info["input"].get("required", {}), **info["input"].get("optional", {})}
    names = []
    for name in info["input_order"].get("required", []) + info["input_order"].get("optional", []):
        kind, opts = inputs[name][0], (inputs[name][1] if len(inputs[name]) > 1 else {})
        if opts.get("forceInput") or not (isinstance(kind, list) or kind in WIDGET_TYPES):
            continue
        names.append(name)
    return names


@pytest.mark.parametrize("node_id", list(ORIGINAL_WIDGETS))
def test_saved_widget_values_land_on_the_original_names_and_validate(comfy, node_id):
    _flavour, _rec, nodes = comfy
    classes = _classes(nodes)
    names = widget_names(classes[node_id].GET_NODE_INFO_V1())
    original = ORIGINAL_WIDGETS[node_id]
    assert names[: len(original)] == original  # new widgets only after the original ones
    inputs = dict(zip(names, SAVED_VALUES[node_id]))
    prompt = {"9": {"class_type": node_id, "inputs": inputs}}
    if node_id == "ComfyRemoteOutput":
        prompt = {"1": {"class_type": "ConstImage", "inputs": {"image": "example.png"}}, **prompt}
        inputs["value"] = ["1", 0]
    errors = comfy_exec.validate_prompt(prompt, classes).get("9", [])
    if node_id == "ComfyRemoteNode":
        # the original required one remote input; only the autogrow flavour (min 0) runs without one
        assert [e["type"] for e in errors] == ([] if _flavour == "0.26" else ["required_input_missing"])
    else:
        assert errors == []


# Modal Deployment widgets saved by the release with models but before the cold start inputs
MODELS_WIDGETS = ["models", "models_secret", "volume"]
COLD_START_WIDGETS = ["memory_snapshot", "gpu_snapshot", "warmup", "startup_timeout"]


@pytest.mark.parametrize("saved", ["original", "with models", "with cold start"])
def test_deploy_widgets_saved_by_each_release_keep_their_places(comfy, saved, tmp_path, monkeypatch):
    from comfy_remote import deploy as deploy_mod
    from comfy_remote.nodes import modal_deployment

    _flavour, _rec, nodes = comfy
    classes = _classes(nodes)
    names = widget_names(classes["ComfyRemoteModalDeployment"].GET_NODE_INFO_V1())
    original = ORIGINAL_WIDGETS["ComfyRemoteModalDeployment"]
    assert names == original + MODELS_WIDGETS + COLD_START_WIDGETS  # new widgets only at the end
    workflow = tmp_path / "prompt.json"
    workflow.write_text(json.dumps({"1": {"class_type": "ComfyRemoteInput", "inputs": {"key": "image"}}}))
    values = [str(workflow), True, "my-app", "", "", "", "", True, False, False, False]
    if saved != "original":
        values += ["", "hf-token", "comfy-models"]
    if saved == "with cold start":
        values += [True, False, True, 1200]
    inputs = dict(zip(names, values))  # the editor hands widgets_values out by position
    assert comfy_exec.validate_prompt({"9": {"class_type": "ComfyRemoteModalDeployment", "inputs": inputs}}, classes).get("9", []) == []
    sent = []
    monkeypatch.setattr(modal_deployment, "run_deploy", lambda request, **kw: sent.append(request) or deploy_mod.DeployResult("https://x.invalid", str(tmp_path), True, False))
    classes["ComfyRemoteModalDeployment"].execute(**inputs)
    request = sent[0]
    assert (request["appName"], request["dryRun"], request["modelsSecret"]) == ("my-app", True, None if saved == "original" else "hf-token")
    cold = (request["memorySnapshot"], request["gpuSnapshot"], request["warmup"], request["startupTimeoutSeconds"])
    assert cold == ((True, False, True, 1200) if saved == "with cold start" else (False, False, False, 900))


# ---- caching: fingerprint_inputs as IsChangedCache calls it ------------------------------------


def test_fingerprints_as_comfyui_computes_them(comfy):
    _flavour, _rec, nodes = comfy
    classes = _classes(nodes)
    prompt = {
        "1": {"class_type": "ComfyRemoteInput", "inputs": {"key": "image", "payload": encoded_json(1)}},
        "2": {"class_type": "ComfyRemoteOutput", "inputs": {"value": ["1", 0], "key": "result"}},
        "3": {"class_type": "ComfyRemoteModalDeployment", "inputs": dict(zip(ORIGINAL_WIDGETS["ComfyRemoteModalDeployment"], SAVED_VALUES["ComfyRemoteModalDeployment"]))},
    }
    first = comfy_exec.fingerprint(classes["ComfyRemoteInput"], "1", prompt)
    prompt["1"]["inputs"]["payload"] = encoded_json(2)
    assert comfy_exec.fingerprint(classes["ComfyRemoteInput"], "1", prompt) != first  # new request, new run
    out_fp = comfy_exec.fingerprint(classes["ComfyRemoteOutput"], "2", prompt)  # linked value arrives as None
    deploy_fp = comfy_exec.fingerprint(classes["ComfyRemoteModalDeployment"], "3", prompt)
    assert out_fp != out_fp and deploy_fp != deploy_fp  # NaN: always run


def test_history_of_two_remote_outputs_is_json(comfy):
    _flavour, _rec, nodes = comfy
    prompt = {
        "1": {"class_type": "ConstImage", "inputs": {"image": "example.png"}},
        "2": {"class_type": "ComfyRemoteOutput", "inputs": {"value": ["1", 0], "key": "image"}},
        "3": {"class_type": "ComfyRemoteOutput", "inputs": {"value": "a literal typed into the * slot", "key": "text"}},
    }
    history = comfy_exec.run_prompt(prompt, _classes(nodes))
    text = json.loads(json.dumps(history["outputs"]))["3"]["remote_output"][0]["value"]
    assert decode_value(text) == "a literal typed into the * slot"
    assert comfy_v3.flavour() == _flavour
