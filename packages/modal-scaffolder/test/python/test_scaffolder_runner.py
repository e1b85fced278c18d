"""comfy_runner against a fake ComfyUI over real HTTP (stdlib only; polling path without /ws)."""

import threading
import time

from scaffolder_fixtures import fake_comfy, modules, project, slow_fake_comfy  # noqa: F401 - pytest fixtures
from scaffolder_helpers import PROMPT

import json

STR = {"type": "STRING", "encoding": "json", "data": "hello"}


def test_runs_a_job_and_cleans_up(modules, fake_comfy):
    wire, runner_mod = modules
    runner = runner_mod.JobRunner(fake_comfy.url, json.loads(PROMPT.read_text()), poll_interval=0.02, use_websocket=False)
    seen = []
    result = runner.run({"image": STR}, seen.append, lambda: False, timeout=20)
    assert result == {"status": "completed", "outputs": {"image": STR, "label": {"type": "STRING", "encoding": "json", "data": "default label"}}}
    (sent,) = fake_comfy.prompts.values()
    assert json.loads(sent["prompt"]["1"]["inputs"]["payload"]) == STR
    assert sent["client_id"]
    assert list(fake_comfy.prompts) == fake_comfy.deleted  # history entry deleted
    # picked up, then accepted by ComfyUI; polling /history: no node progress
    assert seen == [{"value": 0, "max": 1, "message": "starting"}, {"value": 0, "max": 100, "message": "queued"}]


def test_cancel_interrupts_comfyui(modules, slow_fake_comfy):
    _, runner_mod = modules
    runner = runner_mod.JobRunner(slow_fake_comfy.url, json.loads(PROMPT.read_text()), poll_interval=0.02, use_websocket=False)
    flag = threading.Event()
    threading.Timer(0.3, flag.set).start()
    result = runner_mod.run_job(runner, {"image": STR}, None, flag.is_set, 30)
    assert result["status"] == "cancelled"
    (pid,) = slow_fake_comfy.prompts
    assert slow_fake_comfy.interrupts == [{"prompt_id": pid}]
    assert slow_fake_comfy.queue_deletes == [pid]


def test_unreachable_comfyui_is_a_coded_failure(modules):
    _, runner_mod = modules
    started = time.monotonic()
    try:
        runner_mod.wait_ready("http://127.0.0.1:9", timeout=1.0)
    except runner_mod.JobFailed as exc:
        assert exc.code == "COMFYUI_UNAVAILABLE"
    else:
        raise AssertionError("expected JobFailed")
    assert time.monotonic() - started < 30


def _prompt_with(class_type):
    prompt = json.loads(PROMPT.read_text())
    prompt["2"]["class_type"] = class_type
    return prompt


def test_execution_error_is_a_failed_job(modules, fake_comfy):
    _, runner_mod = modules
    runner = runner_mod.JobRunner(fake_comfy.url, _prompt_with("RaiseError"), poll_interval=0.02, use_websocket=False)
    result = runner_mod.run_job(runner, {"image": STR}, None, None, 20)
    assert result["status"] == "failed"
    assert result["error"]["code"] == "COMFYUI_EXECUTION" and "boom" in result["error"]["message"]
    assert fake_comfy.deleted == list(fake_comfy.prompts)


def test_rejected_prompt_is_a_validation_failure(modules, fake_comfy):
    _, runner_mod = modules
    runner = runner_mod.JobRunner(fake_comfy.url, _prompt_with("NotANode"), poll_interval=0.02, use_websocket=False)
    result = runner_mod.run_job(runner, {"image": STR}, None, None, 20)
    assert result["status"] == "failed" and result["error"]["code"] == "COMFYUI_VALIDATION"
    assert "NotANode does not exist" in result["error"]["message"]
    assert result["error"]["details"]["type"] == "invalid_prompt"


class _Cancelled(BaseException):
    """Stands in for modal.exception.InputCancellation (a BaseException raised by Modal's signal handler)."""


def test_cancel_during_post_prompt_interrupts_the_queued_prompt(modules, slow_fake_comfy):
    """Modal can cancel while POST /prompt is in flight: the prompt id is then found by client_id in /queue."""
    _, runner_mod = modules
    runner = runner_mod.JobRunner(slow_fake_comfy.url, json.loads(PROMPT.read_text()), poll_interval=0.02, use_websocket=False)
    request = runner.client.request

    def cancelled_on_submit(method, path, body=None):
        result = request(method, path, body)
        if (method, path) == ("POST", "/prompt"):
            raise _Cancelled()
        return result

    runner.client.request = cancelled_on_submit
    try:
        runner.run({"image": STR}, None, lambda: False, timeout=30)
        raise AssertionError("the cancellation must propagate")
    except _Cancelled:
        pass
    (pid,) = slow_fake_comfy.prompts
    assert slow_fake_comfy.interrupts == [{"prompt_id": pid}]
    assert slow_fake_comfy.queue_deletes == [pid]


def test_comfyui_upload_limit_fits_the_request_limit_as_base64(modules):
    _, runner_mod = modules
    assert runner_mod.upload_limit_args(1024 * 1024) == ["--max-upload-size", "100"]  # never below the default
    args = runner_mod.upload_limit_args(256 * 1024 * 1024)
    assert args[0] == "--max-upload-size"
    assert float(args[1]) * 1024 * 1024 >= 256 * 1024 * 1024 * 4 / 3


def test_a_prompt_comfyui_refuses_as_too_large_is_payload_too_large(modules):
    import http.server

    class TooLarge(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b"413: Request Entity Too Large"
            self.send_response(413)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TooLarge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _, runner_mod = modules
        url = "http://127.0.0.1:%d" % server.server_address[1]
        runner = runner_mod.JobRunner(url, json.loads(PROMPT.read_text()), poll_interval=0.02, use_websocket=False)
        result = runner_mod.run_job(runner, {"image": STR}, None, None, 10)
        assert result["status"] == "failed"
        assert result["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert "max_request_bytes" in result["error"]["message"]
    finally:
        server.shutdown()


def test_execution_error_names_the_node_and_leaks_nothing_unless_debugging(modules, monkeypatch):
    """The message names node id, class and the exception; details carry ComfyUI's traceback (server
    paths) and the node's inputs (which repeat the whole injected payload) only with the debug option."""
    _, runner_mod = modules
    data = {
        "node_id": "2",
        "node_type": "ImageInvert",
        "exception_type": "AttributeError",
        "exception_message": "'str' object has no attribute 'shape'\n",
        "traceback": ['  File "/srv/ComfyUI/execution.py", line 496, in execute\n'],
        "current_inputs": {"image": ["x" * 100_000], "flag": [True]},
    }
    monkeypatch.delenv(runner_mod.DEBUG_ERRORS_ENV, raising=False)
    quiet = runner_mod.execution_failure(data)
    assert quiet.message == "ComfyUI failed at node 2 (ImageInvert): 'str' object has no attribute 'shape'"
    assert quiet.details == {k: data[k] for k in ("node_id", "node_type", "exception_type", "exception_message")}
    monkeypatch.setenv(runner_mod.DEBUG_ERRORS_ENV, "1")
    loud = runner_mod.execution_failure(data)
    assert loud.details["traceback"] == data["traceback"]
    assert loud.details["current_inputs"] == {"image": ["<100002 characters left out>"], "flag": [True]}


def test_exception_type_keeps_no_server_path(modules):
    """ComfyUI names a custom node's exception class by the node folder's path (its module name)."""
    _, runner_mod = modules
    data = {"node_id": "1", "node_type": "ComfyRemoteInput", "exception_message": "bad\n"}
    for raw, kept in [
        ("/srv/ComfyUI/custom_nodes/comfy-remote.comfy_remote.errors.CodecError", "comfy-remote.comfy_remote.errors.CodecError"),
        ("C:\\ComfyUI\\custom_nodes\\comfy-remote.comfy_remote.errors.CodecError", "comfy-remote.comfy_remote.errors.CodecError"),
        ("RuntimeError", "RuntimeError"),
    ]:
        assert runner_mod.execution_failure(dict(data, exception_type=raw)).details["exception_type"] == kept


def test_progress_text_frames_become_the_message(modules):
    """server.py send_progress_text: [u32 3][u32 n][node id][text]; the folded progress says the text."""
    _, runner_mod = modules
    node = b"2"
    frame = (3).to_bytes(4, "big") + len(node).to_bytes(4, "big") + node + "step 3: sampling".encode()
    assert runner_mod.read_text_frame(frame) == ("2", "step 3: sampling")
    assert runner_mod.read_text_frame((1).to_bytes(4, "big") + b"\x00\x00\x00\x01jpeg") is None
    folder = runner_mod.ProgressFolder({"2": {"class_type": "ImageInvert", "inputs": {}}})
    folder.apply("executing", {"node": "2"})
    assert folder.apply("progress_text", {"text": "step 3: sampling"})["message"] == "step 3: sampling"
    assert folder.apply("progress_text", {"text": ""}) is None
