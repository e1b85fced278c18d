"""Node schemas against the ComfyUI stand-in: ids, display names, input_order as the original reported."""

from __future__ import annotations

import pytest

# /object_info of the ORIGINAL nodes in a real ComfyUI 0.3.64 (PROTOCOL-COMPAT.md)
AG = [f"input_{k}_$remote_inputs_ag$" for k in range(1, 9)]
ORIGINAL = {
    "ComfyRemoteInput": {"required": ["key"], "optional": ["fallback"], "outputs": ["Value"], "display": "Remote Input"},
    "ComfyRemoteOutput": {"required": ["value", "key"], "optional": [], "outputs": ["Value"], "display": "Remote Output"},
    "ComfyRemoteNode": {
        "required": ["url", AG[0]],
        "optional": ["request_timeout", "poll_interval", *AG[1:]],
        "outputs": ["Result"],
        "display": "Remote API",
    },
    "ComfyRemoteModalDeployment": {
        "required": ["workflow_path", "deploy"],
        "optional": [
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
        "outputs": ["Service URL"],
        "display": "Modal Deployment",
    },
}
# new inputs, allowed only AFTER the original ones
NEW_OPTIONAL = {
    "ComfyRemoteInput": ["payload"],
    "ComfyRemoteNode": ["token", "allow_pickle", "input_names", "previews"],
    "ComfyRemoteModalDeployment": ["models", "models_secret", "volume", "memory_snapshot", "gpu_snapshot", "warmup", "startup_timeout"],
}


def _infos(nodes):
    from comfy_remote.extension import node_class_mappings

    return {node_id: cls.GET_NODE_INFO_V1() for node_id, cls in node_class_mappings().items()}


def _expected_required(node_id, flavour):
    req = ORIGINAL[node_id]["required"]
    if node_id == "ComfyRemoteNode":
        return {"0.3.64": ["url", AG[0]], "0.26": ["url", "remote_inputs"], "fixed": ["url", "input_1"]}[flavour]
    return req


def _expected_optional(node_id, flavour):
    opt = list(ORIGINAL[node_id]["optional"])
    if node_id == "ComfyRemoteNode":
        base = ["request_timeout", "poll_interval"]
        grow = {"0.3.64": AG[1:], "0.26": [], "fixed": [f"input_{k}" for k in range(2, 9)]}[flavour]
        opt = base + grow
    return opt + NEW_OPTIONAL.get(node_id, [])


@pytest.mark.parametrize("node_id", list(ORIGINAL))
def test_input_order_matches_the_original(comfy, node_id):
    flavour, _rec, nodes = comfy
    info = _infos(nodes)[node_id]
    assert info["name"] == node_id
    assert info["display_name"] == ORIGINAL[node_id]["display"]
    assert info["category"] == "utils/remote"
    assert info["input_order"]["required"] == _expected_required(node_id, flavour)
    assert info["input_order"].get("optional", []) == _expected_optional(node_id, flavour)
    assert info["output_name"][: len(ORIGINAL[node_id]["outputs"])] == ORIGINAL[node_id]["outputs"]


def test_widget_defaults_ranges_and_labels(comfy):
    flavour, _rec, nodes = comfy
    infos = _infos(nodes)
    ri = infos["ComfyRemoteInput"]["input"]
    key_type, key_opts = ri["required"]["key"]
    assert key_type == "STRING" and (key_opts["display_name"], key_opts["default"]) == ("Payload Key", "payload")
    assert not key_opts.get("forceInput")  # a widget, so its value sits at position 0 of widgets_values
    assert ri["optional"]["fallback"] == ("*", {"display_name": "Fallback Value"})
    assert ri["optional"]["payload"][0] == "STRING" and ri["optional"]["payload"][1]["forceInput"] is True
    ro = infos["ComfyRemoteOutput"]
    assert ro["output_node"] is True
    assert ro["input"]["required"]["key"][1]["default"] == "result"
    api = infos["ComfyRemoteNode"]["input"]
    assert api["required"]["url"][1]["display_name"] == "Remote URL"
    t = api["optional"]["request_timeout"][1]
    assert (t["default"], t["min"], t["max"], t["display_name"]) == (300.0, 1.0, 3600.0, "Timeout (s)")
    p = api["optional"]["poll_interval"][1]
    assert (p["default"], p["min"], p["max"], p["display_name"]) == (1.5, 0.1, 120.0, "Poll Interval (s)")
    assert api["optional"]["allow_pickle"][1]["default"] is False
    if flavour == "0.26":
        ag = api["required"]["remote_inputs"]
        assert ag[0] == "COMFY_AUTOGROW_V3"
        assert ag[1]["template"]["prefix"] == "input" and (ag[1]["template"]["min"], ag[1]["template"]["max"]) == (0, 8)
    elif flavour == "0.3.64":
        assert api["required"][AG[0]][0] == "*" and api["optional"][AG[7]][0] == "*"
    md = infos["ComfyRemoteModalDeployment"]["input"]
    assert md["optional"]["app_name"][1]["default"] == "comfy-remote"
    assert md["required"]["deploy"][1]["default"] is True
    assert md["optional"]["rebuild_modal_app"][1]["display_name"] == "Rebuild Modal App"
    assert md["optional"]["delete_modal_app"][1]["display_name"] == "Delete Modal App"
    for name in ("dry_run", "clean_build", "rebuild_modal_app", "delete_modal_app"):
        assert md["optional"][name][1]["default"] is False
    for name in ("models", "models_secret", "volume"):
        assert md["optional"][name][0] == "STRING" and md["optional"][name][1]["default"] == ""
    assert md["optional"]["models"][1]["multiline"] is True
    for name in ("memory_snapshot", "gpu_snapshot", "warmup"):
        assert md["optional"][name][0] == "BOOLEAN" and md["optional"][name][1]["default"] is False
    st = md["optional"]["startup_timeout"]
    assert st[0] == "INT" and (st[1]["default"], st[1]["min"], st[1]["max"]) == (900, 10, 3600)
    assert md["optional"]["gpu_snapshot"][1]["display_name"] == "GPU Snapshot (alpha)"
    assert infos["ComfyRemoteModalDeployment"]["output_name"] == ["Service URL", "Project Dir"]
    assert infos["ComfyRemoteNode"]["output_name"] == ["Result", "Outputs"]


def test_entrypoint_lists_every_node(comfy):
    import asyncio

    from comfy_remote.extension import comfy_entrypoint

    ext = asyncio.run(comfy_entrypoint())
    listed = asyncio.run(ext.get_node_list())
    ids = sorted(cls.define_schema().node_id for cls in listed)
    assert ids == sorted([*ORIGINAL, "ComfyRemoteSelectOutput"])


def test_without_comfyui_the_classes_and_helpers_still_exist(no_comfy):
    from comfy_remote.extension import comfy_entrypoint
    from comfy_remote.nodes import RemoteInputNode, RemoteOutputNode

    assert comfy_entrypoint is None
    RemoteInputNode.inject_payload("7", {"payload": 1})
    assert RemoteInputNode.pop_payload(7) == {"payload": 1}
    assert RemoteInputNode.pop_payload(7) is None
    out = RemoteOutputNode.execute(value=5, key="k")
    assert out.args == (5,) and out.ui["remote_output"][0]["name"] == "k"
