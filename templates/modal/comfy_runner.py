"""Runs jobs on a ComfyUI server over its HTTP API, the same sequence as the mock worker's
comfyui engine: inject -> POST /prompt -> follow /ws (or poll /history) -> read Remote Output
values from /history -> delete the history entry; POST /interrupt on cancel.

Large values never travel as base64 inside the prompt or the history: ``comfy_files`` hands them
to Remote Input as files (written into ComfyUI's temp folder when this process started ComfyUI,
uploaded otherwise) and reads Remote Output files back (from the folder, or GET /view).

Stdlib only, plus ``websocket-client`` when importable (polling /history otherwise); its frames are
read without its pure-Python UTF-8 check (``skip_utf8_validation``): json.loads decodes them anyway.
"""

import json
import logging
import math
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import comfy_app_mode
import comfy_files
import comfy_wire

try:  # websocket-client (pip) / python3-websocket (Debian)
    import websocket as _websocket

    if not hasattr(_websocket, "create_connection"):
        _websocket = None
except ImportError:  # pragma: no cover - depends on the environment
    _websocket = None

logger = logging.getLogger(__name__)
MAX_VIEW_BYTES = 1024 * 1024 * 1024  # largest App Mode output file read back from ComfyUI's /view
DEBUG_ERRORS_ENV = "COMFY_REMOTE_DEBUG_ERRORS"  # "1": error details also carry ComfyUI's traceback and small inputs
DETAIL_VALUE_LIMIT = 1024  # characters of one current_inputs value kept in debug details


class JobFailed(Exception):
    def __init__(self, code, message, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class ComfyClient:
    """Tiny JSON-over-HTTP client for one ComfyUI server."""

    def __init__(self, base_url, timeout=30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw.strip() and raw.strip()[:1] in b"{[" else None)
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            return err.code, parsed

    def ws_url(self, client_id):
        base = self.base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return "%s/ws?clientId=%s" % (base, client_id)


def drop_foreign_utils():
    """Forget a preloaded ``utils`` module that is not ComfyUI's (or our shim)."""
    mod = sys.modules.get("utils")
    path = getattr(mod, "__file__", "") or ""
    if mod is not None and "ComfyUI" not in path and "comfy" not in path.lower():
        for name in [n for n in sys.modules if n == "utils" or n.startswith("utils.")]:
            del sys.modules[name]


def upload_limit_args(max_request_bytes):
    """ComfyUI's ``--max-upload-size`` (MB, default 100) raised so that a prompt carrying
    ``max_request_bytes`` of inputs as base64 JSON text (about 4/3 of the bytes) is accepted."""
    needed = int(math.ceil(max_request_bytes * 4 / 3 / (1024 * 1024))) + 16
    return ["--max-upload-size", str(max(needed, 100))]


def start_comfyui(comfy_dir, port=8188, timeout=900.0, extra_args=()):
    """Start ``python main.py`` once and wait until /system_stats answers. Returns (process, url)."""
    drop_foreign_utils()
    url = "http://127.0.0.1:%d" % port
    cmd = [sys.executable, "main.py", "--listen", "127.0.0.1", "--port", str(port)] + list(extra_args)
    logger.info("starting ComfyUI: %s (cwd %s)", " ".join(cmd), comfy_dir)
    proc = subprocess.Popen(cmd, cwd=comfy_dir)
    wait_ready(url, timeout, proc)
    return proc, url


def wait_ready(url, timeout=900.0, proc=None):
    client = ComfyClient(url, timeout=5.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise JobFailed("COMFYUI_UNAVAILABLE", "ComfyUI exited with code %s while starting; see the container log" % proc.returncode)
        try:
            status, _ = client.request("GET", "/system_stats")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise JobFailed("COMFYUI_UNAVAILABLE", "ComfyUI did not answer /system_stats within %.0f s" % timeout)


class JobRunner:
    """Runs one prompt per call; ``progress(dict)`` gets {value, max, message}; ``cancelled()`` is polled."""

    def __init__(self, comfy_url, prompt, poll_interval=0.25, use_websocket=True, temp_dir=None):
        """``temp_dir``: ComfyUI's temp folder when it shares this filesystem (values go there as files), else
        None (values are uploaded with POST /upload/image and read back with GET /view)."""
        self.client = ComfyClient(comfy_url)
        self.files = comfy_files.FileHandoff(comfy_url, temp_dir)
        self.prompt = prompt
        self.poll_interval = poll_interval
        self.use_websocket = use_websocket and _websocket is not None

    def run(self, inputs, progress=None, cancelled=None, timeout=3600.0, preview=None):
        progress = progress or (lambda p: None)
        progress({"value": 0, "max": 1, "message": "starting"})  # picked up: the web waits for ComfyUI's answer
        self._preview = PreviewGate(preview) if preview is not None else None
        cancelled = cancelled or (lambda: False)
        mapped = comfy_wire.map_inputs(self.prompt, inputs)
        mapped = self._upload_app_files(mapped)
        client_id = uuid.uuid4().hex
        try:
            mapped = self.files.put_inputs(mapped, client_id)
        except comfy_files.HandoffError as exc:
            raise JobFailed(exc.code, exc.message) from exc
        prompt = comfy_wire.inject(self.prompt, mapped)
        ws = self._connect(client_id)
        prompt_id = None
        self._interrupted = None
        try:
            status, body = self.client.request("POST", "/prompt", {"prompt": prompt, "client_id": client_id})
            if status == 413:
                raise JobFailed(
                    "PAYLOAD_TOO_LARGE",
                    "ComfyUI refused the prompt as too large (HTTP 413): raise limits.max_request_bytes in "
                    "modal_config.json (it also sizes ComfyUI's --max-upload-size) or send smaller inputs",
                    body,
                )
            if status != 200 or not isinstance(body, dict) or "prompt_id" not in body:
                raise validation_failure(body)
            prompt_id = body["prompt_id"]
            if body.get("node_errors"):  # partially valid: ComfyUI would run only some outputs
                self.interrupt(prompt_id)
                lines = describe_node_errors(body["node_errors"])
                raise JobFailed("COMFYUI_VALIDATION", "ComfyUI rejected part of the prompt: %s" % "; ".join(lines), {"node_errors": _trimmed(body["node_errors"])})
            progress({"value": 0, "max": 100, "message": "queued"})
            state = self._follow(ws, prompt_id, ProgressFolder(prompt), progress, cancelled, time.monotonic() + timeout)
            if state == "cancelled":
                return {"status": "cancelled", "error": {"code": "CANCELLED", "message": "job cancelled"}}
            entry = self._history(prompt_id, time.monotonic() + 30.0)
            status_info = entry.get("status") or {}
            if status_info.get("status_str") == "error":
                raise history_failure(status_info)
            try:
                outputs = self._read_app_files(comfy_wire.collect_outputs(self.prompt, entry), entry)
                outputs = self.files.read_outputs(outputs)  # Remote Output files (App Mode files are read above)
            except comfy_files.HandoffError as exc:
                raise JobFailed(exc.code, exc.message) from exc
            return {"status": "completed", "outputs": outputs}
        except BaseException as exc:
            if not isinstance(exc, JobFailed):  # cancellation (modal InputCancellation) or a crash
                target = prompt_id or self._queued_prompt(client_id)  # cancelled while POST /prompt ran
                if target is not None:
                    self.interrupt(target)
            raise
        finally:
            if ws is not None:
                try:
                    ws.close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
            if prompt_id is not None:
                self.client.request("POST", "/history", {"delete": [prompt_id]})

    def _upload_app_files(self, mapped):
        """App Mode upload widgets (LoadImage ...): send the request's file with POST /upload/image into
        input/comfy_remote; the widget then holds the name ComfyUI loads it by."""
        entries = {e["name"]: e for e in comfy_app_mode.app_inputs(self.prompt)}
        prefix, out, index = "cr-" + uuid.uuid4().hex[:12], dict(mapped), 0
        for key, value in mapped.items():
            entry = entries.get(key[4:]) if key.startswith("app:") else None
            if entry is None or not comfy_app_mode.needs_upload(entry, value):
                continue
            try:
                filename, raw, mime = comfy_app_mode.upload_file(entry, value, prefix, index)
                index += 1
            except (ValueError, ImportError) as exc:
                raise JobFailed("BAD_REQUEST", "inputs.%s: %s" % (entry["name"], exc)) from exc
            out[key] = {"type": "STRING", "encoding": "json", "data": self._upload(entry["name"], filename, raw, mime)}
        return out

    def _upload(self, name, filename, raw, mime):
        boundary = "comfyremote" + uuid.uuid4().hex
        fields = [("type", b"input"), ("subfolder", comfy_app_mode.UPLOAD_SUBFOLDER.encode()), ("overwrite", b"true")]
        head = '--%s\r\nContent-Disposition: form-data; name="image"; filename="%s"\r\nContent-Type: %s\r\n\r\n' % (boundary, filename, mime)
        body = head.encode("ascii") + raw + b"\r\n"
        for field, data in fields:
            body += ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n' % (boundary, field)).encode("ascii") + data + b"\r\n"
        body += ("--%s--\r\n" % boundary).encode("ascii")
        req = urllib.request.Request(self.client.base_url + "/upload/image", data=body, method="POST")
        req.add_header("Content-Type", "multipart/form-data; boundary=" + boundary)
        try:
            with urllib.request.urlopen(req, timeout=self.client.timeout) as resp:
                answer = json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            code = "PAYLOAD_TOO_LARGE" if err.code == 413 else "COMFYUI_VALIDATION"
            raise JobFailed(code, "ComfyUI refused the upload of input %s (HTTP %d)" % (name, err.code)) from err
        except (OSError, ValueError) as exc:
            raise JobFailed("COMFYUI_UNAVAILABLE", "cannot upload input %s to ComfyUI: %s" % (name, exc)) from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("name"), str):
            raise JobFailed("COMFYUI_VALIDATION", "ComfyUI answered the upload of input %s without a file name" % name)
        sub = answer.get("subfolder") or ""
        kind = answer.get("type") or "input"
        return (sub + "/" if sub else "") + answer["name"] + ("" if kind == "input" else " [%s]" % kind)

    def _read_app_files(self, outputs, entry):
        """App Mode outputs: every output node saved something; their files are read with GET /view."""
        _, missing = comfy_app_mode.collect(self.prompt, entry.get("outputs") or {})
        if missing:
            raise JobFailed("COMFYUI_EXECUTION", "App Mode output(s) %s produced no file; check that the node ran" % ", ".join(missing))
        names = {o["name"] for o in comfy_app_mode.app_outputs(self.prompt)}
        for name in names:
            for holder, ref in comfy_app_mode.file_refs(outputs.get(name)):
                holder["data"] = self._view(ref)
        return outputs

    def _view(self, ref):
        query = urllib.parse.urlencode({"filename": ref["filename"], "subfolder": ref.get("subfolder") or "", "type": ref.get("type") or "output"})
        try:
            with urllib.request.urlopen(self.client.base_url + "/view?" + query, timeout=self.client.timeout) as resp:
                raw = resp.read(MAX_VIEW_BYTES + 1)
        except (OSError, ValueError) as exc:
            raise JobFailed("COMFYUI_UNAVAILABLE", "cannot read output file %s from ComfyUI: %s" % (ref["filename"], exc)) from exc
        if len(raw) > MAX_VIEW_BYTES:
            raise JobFailed("PAYLOAD_TOO_LARGE", "output file %s is over %d bytes" % (ref["filename"], MAX_VIEW_BYTES))
        return raw

    def interrupt(self, prompt_id):
        if getattr(self, "_interrupted", None) == prompt_id:
            return  # once per run: the cancel flag and Modal's InputCancellation can both arrive
        self._interrupted = prompt_id
        try:
            self.client.request("POST", "/queue", {"delete": [prompt_id]})
            self.client.request("POST", "/interrupt", {"prompt_id": prompt_id})
        except OSError as exc:
            logger.warning("interrupt of %s failed: %s", prompt_id, exc)

    def _queued_prompt(self, client_id):
        """Id of the prompt this run queued (found by its client_id in GET /queue), or None."""
        try:
            status, body = self.client.request("GET", "/queue")
        except Exception:  # noqa: BLE001 - best effort while cancelling
            return None
        if status != 200 or not isinstance(body, dict):
            return None
        for entry in (body.get("queue_running") or []) + (body.get("queue_pending") or []):
            if isinstance(entry, list) and len(entry) > 3 and isinstance(entry[3], dict) and entry[3].get("client_id") == client_id:
                return entry[1]
        return None

    def _connect(self, client_id):
        if not self.use_websocket:
            return None
        try:
            # skip_utf8_validation: websocket-client checks every text frame's UTF-8 in pure Python
            # (1.4 s of a 1024x1024 job measured); json.loads rejects bad text anyway.
            ws = _websocket.create_connection(self.client.ws_url(client_id), timeout=10, skip_utf8_validation=True)
            # ask for type-4 preview frames, which name their node and prompt
            ws.send(json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}}))
            ws.settimeout(self.poll_interval)
            return ws
        except Exception as exc:  # noqa: BLE001 - fall back to polling
            logger.warning("websocket unavailable (%s); polling /history", exc)
            return None

    def _node(self, node):
        """{node, class_type} of a prompt node id (per-node progress)."""
        out = {"node": str(node)}
        entry = self.prompt.get(str(node)) if isinstance(self.prompt, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("class_type"), str):
            out["class_type"] = entry["class_type"]
        return out

    def _title(self, node):
        entry = self.prompt.get(str(node)) if isinstance(self.prompt, dict) else None
        meta = entry.get("_meta") if isinstance(entry, dict) else None
        return (meta or {}).get("title") or (entry or {}).get("class_type") or "node %s" % node

    def _follow(self, ws, prompt_id, folder, progress, cancelled, deadline):
        current = None
        gate = getattr(self, "_preview", None)
        while True:
            if gate is not None:
                gate.flush()
            if cancelled():
                self.interrupt(prompt_id)
                return "cancelled"
            if time.monotonic() > deadline:
                self.interrupt(prompt_id)
                raise JobFailed("TIMEOUT", "the workflow did not finish within the job timeout")
            if ws is None:
                status, body = self.client.request("GET", "/history/%s" % prompt_id)
                if status == 200 and isinstance(body, dict) and prompt_id in body:
                    return "done"
                time.sleep(self.poll_interval)
                continue
            try:
                raw = ws.recv()
            except _websocket.WebSocketTimeoutException:
                continue
            except Exception:  # noqa: BLE001 - socket lost: poll instead
                ws = None
                continue
            if not isinstance(raw, str):
                said = read_text_frame(raw)  # a node's progress text: the job's message (as the mock worker)
                if said is not None:
                    folded = folder.apply("progress_text", {"text": said[1]})
                    if folded is not None:
                        progress(dict(self._node(current), **folded) if current else folded)
                    continue
                frame = read_preview_frame(raw) if gate is not None else None
                if frame is not None and frame[3] in (None, prompt_id):
                    mime, image, node, _ = frame
                    node = node or current
                    gate.offer(dict(self._node(node) if node else {}, mime=mime, data=image))
                continue
            msg = json.loads(raw)
            kind, data = msg.get("type"), msg.get("data") or {}
            if data.get("prompt_id") not in (None, prompt_id):
                continue
            if kind == "executing" and data.get("node") is not None:
                current = data["node"]
            folded = folder.apply(kind, data)
            if folded is not None:
                node = data.get("node") if kind in ("progress", "executing") and isinstance(data.get("node"), str) else current
                progress(dict(self._node(node), **folded) if node else folded)  # per-node: node, class_type
            if kind == "execution_error":
                raise execution_failure(data)
            elif kind == "execution_interrupted":
                return "cancelled"
            elif kind == "execution_success" or (kind == "executing" and data.get("node") is None and "prompt_id" in data):
                return "done"

    def _history(self, prompt_id, deadline):
        while True:  # history can lag the final ws message by a few ms
            status, body = self.client.request("GET", "/history/%s" % prompt_id)
            if status == 200 and isinstance(body, dict) and prompt_id in body:
                return body[prompt_id]
            if time.monotonic() > deadline:
                raise JobFailed("COMFYUI_UNAVAILABLE", "ComfyUI finished prompt %s but /history has no entry for it" % prompt_id)
            time.sleep(0.05)


class ProgressFolder:
    """Folds the progress of every node of one prompt into one job progress, as the mock worker's comfyui
    engine: each node is one unit (finished or cached = 1, running = its value/max), reported as 0..100;
    the message names the running node and its step."""

    def __init__(self, prompt):
        self.prompt = prompt
        self.total = max(1, len(prompt))
        self.done = {}
        self.current = None
        self.message = None

    def _set(self, node, fraction):
        fraction = min(1.0, max(0.0, fraction)) if fraction == fraction else 0.0
        self.done[node] = max(self.done.get(node, 0.0), fraction)

    def _label(self, node):
        entry = self.prompt.get(node) or {}
        title = (entry.get("_meta") or {}).get("title") or entry.get("class_type")
        return "%s (node %s)" % (title, node) if title else "node %s" % node

    def apply(self, kind, data):
        """One ws message; returns the new progress when it changed, else None."""
        before = self.snapshot()
        if kind == "execution_cached":
            for node in data.get("nodes") or []:
                self._set(str(node), 1.0)
        elif kind == "executing":
            if self.current is not None:
                self._set(self.current, 1.0)
            node = data.get("node")
            self.current = node if isinstance(node, str) else None
            if self.current is not None:
                self.message = "running %s" % self._label(self.current)
        elif kind == "executed":
            if isinstance(data.get("node"), str):
                self._set(data["node"], 1.0)
        elif kind == "progress":
            node = data.get("node") if isinstance(data.get("node"), str) else self.current
            value, top = data.get("value"), data.get("max")
            if node is not None and isinstance(value, (int, float)) and isinstance(top, (int, float)) and top > 0:
                self._set(node, value / top)
                self.message = "%s %s/%s" % (self._label(node), value, top)
        elif kind == "progress_text":
            if isinstance(data.get("text"), str) and data["text"]:
                self.message = data["text"]
        elif kind == "progress_state":
            for node, state in (data.get("nodes") or {}).items():
                state = state or {}
                if state.get("state") == "finished":
                    self._set(node, 1.0)
                elif isinstance(state.get("value"), (int, float)) and isinstance(state.get("max"), (int, float)) and state["max"] > 0:
                    self._set(node, state["value"] / state["max"])
        else:
            return None
        after = self.snapshot()
        return after if after != before else None

    def snapshot(self):
        value = min(100, int(math.floor(100.0 * sum(self.done.values()) / self.total)))
        return {"value": value, "max": 100, "message": self.message} if self.message is not None else {"value": value, "max": 100}


def _debug_errors():
    return os.environ.get(DEBUG_ERRORS_ENV, "").strip().lower() in ("1", "true", "yes")


def _trimmed(value, limit=DETAIL_VALUE_LIMIT):
    """A copy with every value whose JSON text is longer than ``limit`` replaced by a short note."""
    text = json.dumps(value, default=str)
    if len(text) <= limit:
        return value
    if isinstance(value, dict):
        return {k: _trimmed(v, limit) for k, v in value.items()}
    if isinstance(value, list) and len(value) <= 16:
        return [_trimmed(v, limit) for v in value]
    return "<%d characters left out>" % len(text)


def execution_failure(data):
    """COMFYUI_EXECUTION naming node id, class and the exception message; the traceback and the node's
    inputs (which repeat the injected payload) only with COMFY_REMOTE_DEBUG_ERRORS=1, inputs trimmed."""
    node = "node %s%s" % (data.get("node_id", "?"), " (%s)" % data["node_type"] if data.get("node_type") else "")
    what = str(data.get("exception_message") or "unknown error").strip()
    details = {k: data.get(k) for k in ("node_id", "node_type", "exception_type", "exception_message")}
    if isinstance(details["exception_type"], str):  # ComfyUI 0.2x names a custom node's module by its path
        details["exception_type"] = re.split(r"[\\/]", details["exception_type"])[-1]
    if _debug_errors():
        details["traceback"] = data.get("traceback")
        details["current_inputs"] = _trimmed(data.get("current_inputs"))
    return JobFailed("COMFYUI_EXECUTION", "ComfyUI failed at %s: %s" % (node, what), details)


def history_failure(status_info):
    for event, data in status_info.get("messages") or []:
        if event == "execution_error":
            return execution_failure(data or {})
        if event == "execution_interrupted":
            return JobFailed("CANCELLED", "The prompt was interrupted in ComfyUI.")
    return JobFailed("COMFYUI_EXECUTION", 'ComfyUI ended the prompt with status "%s".' % status_info.get("status_str", "unknown"))


def describe_node_errors(node_errors):
    """One line per problem: node id, class, input name, ComfyUI's message and details (as the mock worker)."""
    lines = []
    for node_id, entry in (node_errors or {}).items():
        entry = entry if isinstance(entry, dict) else {}
        for err in entry.get("errors") or []:
            inp = (err.get("extra_info") or {}).get("input_name")
            where = "node %s%s%s" % (node_id, " (%s)" % entry["class_type"] if entry.get("class_type") else "", ' input "%s"' % inp if inp else "")
            details = ": %s" % err["details"] if err.get("details") and err.get("details") != inp else ""
            lines.append("%s: %s%s" % (where, err.get("message") or err.get("type") or "invalid", details))
    return lines


def validation_failure(body):
    """COMFYUI_VALIDATION for a refused POST /prompt, naming node, input and reason."""
    if not isinstance(body, dict):
        return JobFailed("COMFYUI_VALIDATION", "ComfyUI rejected the prompt: %s" % str(body)[:500])
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    lines = describe_node_errors(body.get("node_errors"))
    head = error.get("message") or "ComfyUI rejected the prompt"
    extra = ": " + "; ".join(lines) if lines else (" (%s)" % error["details"] if error.get("details") else "")
    details = {"type": error.get("type"), "node_errors": _trimmed(body.get("node_errors") or {})}
    return JobFailed("COMFYUI_VALIDATION", "ComfyUI rejected the prompt: %s%s" % (head, extra), details)


def read_text_frame(raw):
    """(node id, text) of a progress-text websocket frame (server.py send_progress_text: [u32 3][u32 n]
    [node id, n bytes][utf-8 text]), else None."""
    if not isinstance(raw, (bytes, bytearray)) or len(raw) < 8 or int.from_bytes(raw[0:4], "big") != 3:
        return None
    size = int.from_bytes(raw[4:8], "big")
    if 8 + size > len(raw):
        return None
    return bytes(raw[8:8 + size]).decode("utf-8", "replace"), bytes(raw[8 + size:]).decode("utf-8", "replace")


def read_preview_frame(raw):
    """(mime, image bytes, node or None, prompt_id or None) of a PREVIEW_IMAGE websocket frame: type 1
    [u32 1][u32 format 1=JPEG 2=PNG][image], or type 4 [u32 4][u32 n][metadata JSON][image]; else None."""
    if not isinstance(raw, (bytes, bytearray)) or len(raw) < 8:
        return None
    kind, second = int.from_bytes(raw[0:4], "big"), int.from_bytes(raw[4:8], "big")
    if kind == 1:
        mime = {1: "image/jpeg", 2: "image/png"}.get(second)
        return (mime, bytes(raw[8:]), None, None) if mime and len(raw) > 8 else None
    if kind != 4 or 8 + second >= len(raw):
        return None
    try:
        meta = json.loads(bytes(raw[8:8 + second]).decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(meta, dict):
        return None
    mime = meta.get("image_type") if isinstance(meta.get("image_type"), str) and meta["image_type"].startswith("image/") else "image/jpeg"
    node = meta.get("display_node_id") or meta.get("node_id")
    return mime, bytes(raw[8 + second:]), node if isinstance(node, str) else None, meta.get("prompt_id")


class PreviewGate:
    """At most one preview per ``interval`` seconds reaches ``publish``; newer ones replace a waiting one.
    ``flush()`` (called as messages arrive) publishes the waiting one once its time has come."""

    MAX_BYTES = 1024 * 1024

    def __init__(self, publish, interval=0.25, clock=time.monotonic):
        self.publish, self.interval, self.clock = publish, interval, clock
        self.last, self.waiting = None, None

    def offer(self, preview):
        if not preview.get("data") or len(preview["data"]) > self.MAX_BYTES:
            return
        self.waiting = preview
        self.flush()

    def flush(self):
        now = self.clock()
        if self.waiting is not None and (self.last is None or now - self.last >= self.interval):
            preview, self.waiting, self.last = self.waiting, None, now
            self.publish(preview)


def run_job(runner, inputs, progress, cancelled, timeout, preview=None):
    """Job result dict for the web app; never raises for job failures."""
    try:
        return runner.run(inputs, progress, cancelled, timeout, preview)
    except comfy_wire.WireError as exc:
        return {"status": "failed", "error": {"code": exc.code, "message": exc.message}}
    except JobFailed as exc:
        err = {"code": exc.code, "message": exc.message}
        if exc.details is not None:
            err["details"] = exc.details
        return {"status": "cancelled" if exc.code == "CANCELLED" else "failed", "error": err}
    except Exception as exc:  # noqa: BLE001 - a bug or a lost ComfyUI is a failed job, not a crashed call
        logger.exception("job failed unexpectedly")
        return {"status": "failed", "error": {"code": "JOB_FAILED", "message": "the worker failed: %s: %s; see the app's logs" % (type(exc).__name__, exc)}}


def comfy_dir():
    return os.environ.get("COMFYUI_DIR", "/workspace/ComfyUI")
