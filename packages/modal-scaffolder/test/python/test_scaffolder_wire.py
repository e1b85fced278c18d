"""comfy_wire: request forms, input mapping, injection, collection, multipart (no server needed)."""

import base64
import json
import threading
import time

import pytest

from scaffolder_fixtures import modules, project  # noqa: F401 - pytest fixtures

PROMPT = json.loads((__import__("scaffolder_helpers").PROMPT).read_text())
IMG = {"type": "IMAGE", "encoding": "npy", "data": base64.b64encode(b"\x93NUMPY fake bytes").decode()}


def test_remote_nodes_in_node_id_order(modules):
    wire, _ = modules
    assert [n["name"] for n in wire.remote_inputs(PROMPT)] == ["image", "label"]
    assert [n["required"] for n in wire.remote_inputs(PROMPT)] == [True, False]
    assert [n["node_id"] for n in wire.remote_outputs(PROMPT)] == ["3", "11"]


def test_list_form_and_positional_mapping(modules):
    wire, _ = modules
    body = {"inputs": [{"name": "input_1", "comfy_type": "IMAGE", "encoding": "npy", "data": IMG["data"]}, {"name": "input_2", "encoding": "identity", "data": "hi"}]}
    inputs = wire.normalize_inputs(body)
    assert inputs["input_1"]["type"] == "IMAGE"
    assert wire.map_inputs(PROMPT, inputs) == {"1": inputs["input_1"], "10": inputs["input_2"]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"inputs": 5}, "inputs"),
        ({"inputs": {"image": {"type": "IMAGE"}}}, "inputs.image"),
        ({"inputs": [{"encoding": "json", "data": 1}]}, "inputs[0].name"),
        ({"inputs": {"nope": {"type": "INT", "encoding": "json", "data": 1}}}, "inputs.nope"),
        ({"inputs": {"label": {"type": "STRING", "encoding": "json", "data": "x"}}}, "inputs.image"),
        ({"inputs": {"image": dict(IMG, encoding="base64+pickle")}}, "inputs.image"),
        ([1, 2], "body"),
        ({"inputs": {"image": IMG, "input_1": IMG}}, "inputs.input_1"),
        ({"inputs": {"input_01": IMG}}, "inputs.input_01"),
    ],
)
def test_bad_requests_name_the_field(modules, body, field):
    wire, _ = modules
    with pytest.raises(wire.WireError) as info:
        inputs = wire.normalize_inputs(body)
        wire.check_pickle(inputs)
        wire.map_inputs(PROMPT, inputs)
    details = info.value.details or {}
    # the field in details (details.field, or the first of details.problems) and in the message
    named = details.get("field") or (details.get("problems") or [""])[0].split(":")[0]
    assert named.startswith(field), (named, info.value.message)
    assert (named + ":") in info.value.message, info.value.message


def test_inject_writes_payload_json_and_keeps_the_original(modules):
    wire, _ = modules
    injected = wire.inject(PROMPT, {"1": dict(IMG, data=b"\x00\x01raw")})
    assert json.loads(injected["1"]["inputs"]["payload"]) == dict(IMG, data=base64.b64encode(b"\x00\x01raw").decode())
    assert "payload" not in PROMPT["1"]["inputs"]


def test_collect_outputs_reads_remote_output_ui(modules):
    wire, _ = modules
    entry = {"outputs": {"3": {"remote_output": [{"name": "image", "value": IMG}]}, "7": {"text": ["x"]}}}
    assert wire.collect_outputs(PROMPT, entry) == {"image": IMG}


def test_multipart_round_trip_moves_binary_into_parts(modules):
    wire, _ = modules
    message = {"inputs": {"image": IMG, "label": {"type": "STRING", "encoding": "json", "data": "a\r\n--b"}}}
    body, ctype = wire.encode_multipart(message)
    assert b"\x93NUMPY fake bytes" in body and IMG["data"].encode() not in body
    decoded = wire.decode_multipart(body, ctype)
    assert decoded["inputs"]["image"]["data"] == b"\x93NUMPY fake bytes"
    assert decoded["inputs"]["label"] == message["inputs"]["label"]
    assert wire.to_json_value(decoded) == message


def test_multipart_sends_a_payload_held_twice_once(modules):
    wire, _ = modules
    value = dict(IMG, data=b"\x93NUMPY shared bytes")
    body, ctype = wire.encode_multipart({"status": "completed", "result": value, "outputs": {"image": value}})
    assert body.count(b"\x93NUMPY shared bytes") == 1
    decoded = wire.decode_multipart(body, ctype)
    assert decoded["result"]["data"] == decoded["outputs"]["image"]["data"] == b"\x93NUMPY shared bytes"
    other = dict(IMG, data=bytes(bytearray(b"\x93NUMPY shared bytes")))  # equal bytes, another object: own part
    body, _ = wire.encode_multipart({"result": value, "outputs": {"image": other}})
    assert body.count(b"\x93NUMPY shared bytes") == 2


def test_multipart_without_json_part_is_refused(modules):
    wire, _ = modules
    body = b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n'
    with pytest.raises(wire.WireError, match="json"):
        wire.decode_multipart(body, "multipart/form-data; boundary=b")


class _DoneBackend:
    """A backend whose call has already finished (a job ComfyUI ran in milliseconds)."""

    def __init__(self, result):
        self.store = {}
        self.result = result

    def poll(self, call_id, timeout=0.0):
        return True, self.result


def test_envelopes_progress_forms_as_the_mock_worker(modules):
    """Pending: {0, 1} without message; completed: full on the runner's scale, also when the web never saw
    a node run (the last progress it saw was ComfyUI's 'queued'); failed before running: {0, 1}."""
    import comfy_web

    done = _DoneBackend({"status": "completed", "outputs": {}})
    jobs = comfy_web.Jobs(done)
    done.store.update({"job:j": {"call_id": "c", "created": 0.0}, "progress:j": {"value": 0, "max": 100, "message": "queued"}})
    assert jobs.envelope("j")["progress"] == {"value": 100, "max": 100}
    failed = _DoneBackend({"status": "failed", "error": {"code": "COMFYUI_VALIDATION", "message": "refused"}})
    failed.store.update({"job:j": {"call_id": "c", "created": 0.0}, "progress:j": {"value": 0, "max": 1, "message": "submitted"}})
    env = comfy_web.Jobs(failed).envelope("j")
    assert env["progress"] == {"value": 0, "max": 1} and env["message"] == "refused"


def test_a_job_that_ends_while_the_web_waits_on_it_keeps_its_last_progress(modules):
    """The long poll on the call returns when the job ended: the progress the runner reported meanwhile
    counts (a failed job keeps it), not what the store held before the wait."""
    import comfy_web

    class Finishing(_DoneBackend):
        def poll(self, call_id, timeout=0.0):
            if timeout > 0:  # the runner went on while we waited
                self.store["progress:j"] = {"value": 33, "max": 100, "message": "running Invert Image (node 2)"}
            return timeout > 0, self.result

    backend = Finishing({"status": "failed", "error": {"code": "COMFYUI_EXECUTION", "message": "boom"}})
    backend.store.update({"job:j": {"call_id": "c", "created": 0.0}, "progress:j": {"value": 0, "max": 100, "message": "queued"}})
    env = comfy_web.Jobs(backend).envelope("j", block=0.25)
    assert env["status"] == "failed" and env["progress"]["value"] == 33 and env["progress"]["max"] == 100


class _RunningBackend(_DoneBackend):
    """A call that never finishes while the test looks (a runner busy elsewhere or still starting)."""

    def poll(self, call_id, timeout=0.0):
        return False, None


def test_post_run_waits_for_comfyui_only_once_a_runner_took_the_job(modules):
    """Waiting for a container (still 'submitted' after PICKUP_SECONDS): pending at once, not after the
    whole admission time; a runner that took the job ('starting') is waited for until ComfyUI answers."""
    import comfy_web

    backend = _RunningBackend(None)
    backend.store.update({"job:j": {"call_id": "c", "created": 0.0}, "progress:j": {"value": 0, "max": 1, "message": "submitted"}})
    jobs = comfy_web.Jobs(backend)
    began = time.monotonic()
    assert jobs.admit("j", seconds=10.0)["status"] == "pending"
    assert time.monotonic() - began < 3.0
    backend.store["progress:j"] = {"value": 0, "max": 1, "message": "starting"}
    timer = threading.Timer(0.3, lambda: backend.store.update({"progress:j": {"value": 0, "max": 100, "message": "queued"}}))
    timer.start()
    began = time.monotonic()
    env = jobs.admit("j", seconds=10.0)
    assert env["status"] == "pending" and env["progress"] == {"value": 0, "max": 1} and "message" not in env
    assert 0.25 < time.monotonic() - began < 3.0
