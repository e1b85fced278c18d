"""A minimal ComfyUI stand-in (HTTP only, no /ws) for the runner's polling path.

Remote Output values are the payload of the Remote Input they are linked to (through any chain of
other nodes' first linked input), like the io-helpers fake. ``delay`` makes prompts run that long
(interruptible). A node of class ``RaiseError`` fails the run (execution_error in history); a node of
class ``NotANode`` is rejected by POST /prompt (400, invalid_prompt). Everything the runner did is
recorded for assertions.
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeComfy:
    def __init__(self, delay=0.0):
        self.delay = delay
        self.prompts = {}
        self.history = {}
        self.interrupts = []
        self.deleted = []
        self.queue_deletes = []
        self.cuda_calls = []  # POST /comfy_remote/snapshot/cuda (the app's CPU snapshot helper node)
        self._interrupt = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _value_of(self, prompt, link):
        node = prompt[str(link[0])]
        if node["class_type"] == "ComfyRemoteInput":
            if "payload" in node["inputs"]:
                return json.loads(node["inputs"]["payload"])
            return {"type": "STRING", "encoding": "json", "data": node["inputs"].get("fallback")}
        linked = [v for v in node["inputs"].values() if isinstance(v, list) and len(v) == 2]
        return self._value_of(prompt, linked[0]) if linked else {"type": "*", "encoding": "json", "data": None}

    def _execute(self, prompt_id, prompt):
        deadline = time.monotonic() + self.delay
        while time.monotonic() < deadline:
            if self._interrupt.is_set():
                self._interrupt.clear()
                msg = ["execution_interrupted", {"prompt_id": prompt_id, "node_id": "2"}]
                self.history[prompt_id] = {"outputs": {}, "status": {"status_str": "error", "completed": False, "messages": [msg]}}
                return
            time.sleep(0.02)
        for node_id, node in prompt.items():
            if node["class_type"] == "RaiseError":
                msg = ["execution_error", {"prompt_id": prompt_id, "node_id": node_id, "exception_type": "RuntimeError", "exception_message": "boom"}]
                self.history[prompt_id] = {"outputs": {}, "status": {"status_str": "error", "completed": False, "messages": [msg]}}
                return
        outputs = {}
        for node_id, node in prompt.items():
            if node["class_type"] == "ComfyRemoteOutput":
                value = self._value_of(prompt, node["inputs"]["value"])
                outputs[node_id] = {"remote_output": [{"name": node["inputs"].get("key", "result"), "value": value}]}
        self.history[prompt_id] = {"prompt": [0, prompt_id, prompt, {}, list(outputs)], "outputs": outputs, "status": {"status_str": "success", "completed": True, "messages": []}}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body=None):
                raw = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n) or b"{}")

            def do_GET(self):
                if self.path == "/system_stats":
                    return self._send(200, {"system": {"comfyui_version": "fake"}})
                if self.path == "/queue":  # shape of ComfyUI 0.3.64 (io-helpers fixtures interrupt/)
                    running = [[0, pid, body["prompt"], {"client_id": body.get("client_id")}, []] for pid, body in fake.prompts.items() if pid not in fake.history]
                    return self._send(200, {"queue_running": running[:1], "queue_pending": running[1:]})
                if self.path.startswith("/history/"):
                    pid = self.path[len("/history/"):]
                    return self._send(200, {pid: fake.history[pid]} if pid in fake.history else {})
                return self._send(404, {})

            def do_POST(self):
                body = self._body()
                if self.path == "/prompt":
                    if any(n["class_type"] == "NotANode" for n in body["prompt"].values()):
                        error = {"type": "invalid_prompt", "message": "Cannot execute because node NotANode does not exist.", "details": "", "extra_info": {}}
                        return self._send(400, {"error": error, "node_errors": {}})
                    pid = str(uuid.uuid4())
                    fake.prompts[pid] = body
                    threading.Thread(target=fake._execute, args=(pid, body["prompt"]), daemon=True).start()
                    return self._send(200, {"prompt_id": pid, "number": len(fake.prompts) - 1, "node_errors": {}})
                if self.path == "/interrupt":
                    fake.interrupts.append(body)
                    fake._interrupt.set()
                elif self.path == "/history":
                    fake.deleted.extend(body.get("delete", []))
                    for pid in body.get("delete", []):
                        fake.history.pop(pid, None)
                elif self.path == "/queue":
                    fake.queue_deletes.extend(body.get("delete", []))
                elif self.path == "/comfy_remote/snapshot/cuda":
                    fake.cuda_calls.append(body)
                    return self._send(200, {"cuda": True, "devices": 1})
                return self._send(200)

        return Handler
