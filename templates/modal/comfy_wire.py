"""Pure request/response logic of the comfy-remote worker (no Modal, no FastAPI, no network).

Shared by the web app (comfy_web.py) and the GPU job runner (comfy_runner.py):
- find the Remote Input/Output nodes of an API prompt and describe the contract;
- read run requests (map form and the original list form, input_1..N positional mapping);
- inject encoded values into Remote Input ``payload`` inputs, collect Remote Output values;
- envelopes, and the multipart/form-data transport (a ``json`` part plus binary parts).
"""

import base64
import concurrent.futures
import copy
import hashlib
import io
import json
import re
import uuid

import comfy_app_mode

REMOTE_INPUT = "ComfyRemoteInput"
REMOTE_OUTPUT = "ComfyRemoteOutput"
BINARY_ENCODINGS = ("npy", "png", "file")
ENCODINGS = ("json", "npy", "png", "object", "list", "base64+pickle", "identity", "file")
RETRY_AFTER_SECONDS = 1.0  # the poll delay unfinished envelopes advertise (as the mock worker)
TERMINAL = ("completed", "failed", "cancelled")
_INPUT_N = re.compile(r"^input_([1-9][0-9]*)$")


class WireError(Exception):
    """A request the worker cannot accept; ``code`` and ``status`` go into the error envelope."""

    def __init__(self, code, message, status=400, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details


MAX_JSON_DEPTH = 256  # the TypeScript protocol's MAX_JSON_DEPTH: the mock worker refuses the same bodies


def json_depth(value, limit=MAX_JSON_DEPTH):
    """Nesting depth of a JSON value, at most ``limit + 1`` (iterative: deep input cannot overflow)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        if depth + 1 > limit:
            return limit + 1
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def loads_bounded(raw, field="body"):
    """json.loads for request bodies: bad or too deeply nested JSON is a 400 WireError, never a
    RecursionError (which would surface as a 500) in the parser or in anything that walks the value."""
    too_deep = "%s: JSON nested deeper than %d levels; flatten the value (real messages nest a few levels)" % (field, MAX_JSON_DEPTH)
    try:
        value = json.loads(raw)
    except RecursionError as exc:
        raise WireError("BAD_REQUEST", too_deep, details={"field": field}) from exc
    except ValueError as exc:
        message = '%s: not valid JSON (%s); send a JSON object {"inputs": {...}}.' % (field, exc)
        raise WireError("BAD_REQUEST", message, details={"field": field}) from exc
    if json_depth(value) > MAX_JSON_DEPTH:
        raise WireError("BAD_REQUEST", too_deep, details={"field": field})
    return value


def _node_order(node_id):
    text = str(node_id)
    return (0, int(text), text) if text.isdigit() else (1, 0, text)


def remote_inputs(prompt):
    """Remote Input nodes as dicts {node_id, name, required}, in ascending node-id order."""
    found = []
    for node_id, node in prompt.items():
        if isinstance(node, dict) and node.get("class_type") == REMOTE_INPUT:
            inputs = node.get("inputs") or {}
            key = inputs.get("key")
            name = key if isinstance(key, str) and key else "payload"
            found.append({"node_id": str(node_id), "name": name, "required": "fallback" not in inputs})
    return sorted(found, key=lambda n: _node_order(n["node_id"]))


def remote_outputs(prompt):
    """Remote Output nodes as dicts {node_id, name}, in ascending node-id order."""
    found = []
    for node_id, node in prompt.items():
        if isinstance(node, dict) and node.get("class_type") == REMOTE_OUTPUT:
            key = (node.get("inputs") or {}).get("key")
            found.append({"node_id": str(node_id), "name": key if isinstance(key, str) and key else "result"})
    return sorted(found, key=lambda n: _node_order(n["node_id"]))


def describe(value):
    """What a JSON value is, as the TypeScript protocol's describe() words it."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else "object"


def _bad(field, message):
    """A BAD_REQUEST naming ``field`` in its message and in ``details.field`` (as the mock worker)."""
    return WireError("BAD_REQUEST", "%s: %s" % (field, message), details={"field": field})


def _check_value(value, field):
    """One encoded value's shape, worded as the TypeScript parseEncodedValue (pickle: check_pickle)."""
    if not isinstance(value, dict):
        raise _bad(field, "expected an encoded value object {type, encoding, data}, got %s." % describe(value))
    if "encoding" not in value and "value" in value and "data" not in value:
        value = dict(value, encoding="identity", data=value["value"])
    encoding = value.get("encoding")
    if not isinstance(encoding, str):
        raise _bad(field + ".encoding", "missing; set it to one of %s." % ", ".join(ENCODINGS))
    if encoding not in ENCODINGS:
        raise WireError(
            "UNKNOWN_ENCODING",
            '%s.encoding: unknown encoding %s; use one of %s.' % (field, json.dumps(encoding), ", ".join(ENCODINGS)),
            details={"field": field + ".encoding"},
        )
    if "data" not in value and not (isinstance(value.get("ref"), str) and value["ref"]):
        raise _bad(field + ".data", "missing; put the value (or its base64 bytes) in data, or a URL in ref.")
    kind = value.get("type", value.get("comfy_type"))
    if kind is not None and not isinstance(kind, str):
        raise _bad(field + ".type", "must be a string.")
    if encoding == "object" and isinstance(value.get("data"), dict):
        for key, inner in value["data"].items():
            _check_value(inner, "%s.data.%s" % (field, key))
    if encoding == "list" and isinstance(value.get("data"), list):
        for i, inner in enumerate(value["data"]):
            _check_value(inner, "%s.data[%d]" % (field, i))
    return value


def _pickle_path(value, field):
    """Where base64+pickle hides in a value (itself, or inside object/list), as a field path."""
    if not isinstance(value, dict):
        return None
    if value.get("encoding") == "base64+pickle":
        return field
    data = value.get("data")
    if value.get("encoding") == "object" and isinstance(data, dict):
        for key, inner in data.items():
            found = _pickle_path(inner, "%s.data.%s" % (field, key))
            if found:
                return found
    if value.get("encoding") == "list" and isinstance(data, list):
        for i, inner in enumerate(data):
            found = _pickle_path(inner, "%s.data[%d]" % (field, i))
            if found:
                return found
    return None


def check_pickle(inputs):
    """PICKLE_REFUSED naming the first base64+pickle value (by input name, as the mock worker)."""
    for name, value in inputs.items():
        found = _pickle_path(value, "inputs.%s" % name)
        if found:
            raise WireError(
                "PICKLE_REFUSED",
                "%s: base64+pickle values are refused (unpickling runs code); send npy, png or json encodings" % found,
                details={"field": found},
            )


_SIMPLE_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def type_problem(want, value):
    """Why ``value`` cannot feed an input of type ``want`` (None when it can); as the mock worker."""
    if not isinstance(want, str) or not _SIMPLE_TYPE.match(want):
        return None  # '*', lists of types, combos: anything goes
    got = value.get("type", value.get("comfy_type", "*"))
    if isinstance(got, str) and _SIMPLE_TYPE.match(got) and got != want and not (want == "FLOAT" and got == "INT"):
        return "a %s value cannot feed this %s input; send a %s" % (got, want, want)
    return None


def check_types(contract_body, inputs):
    """BAD_REQUEST naming every input whose value does not fit the type of the Remote Input it feeds."""
    declared = (contract_body or {}).get("inputs") or []
    problems = []
    for name, value in inputs.items():
        match = _INPUT_N.match(name)
        spec = next((i for i in declared if i.get("name") == name), None)
        if spec is None and match and int(match.group(1)) <= len(declared):
            spec = declared[int(match.group(1)) - 1]
        problem = type_problem(spec.get("type"), value) if spec else None
        if problem:
            problems.append("inputs.%s: %s" % (name, problem))
    if problems:
        raise WireError("BAD_REQUEST", "; ".join(problems), details={"problems": problems})


def normalize_inputs(body):
    """Run request body -> {name: encoded value}. Accepts the map form and the original list form."""
    if not isinstance(body, dict):
        raise _bad("body", 'expected a JSON object {"inputs": {...}}, got %s.' % describe(body))
    raw = body.get("inputs")
    out = {}
    if isinstance(raw, dict):
        for name, value in raw.items():
            out[str(name)] = _check_value(value, "inputs.%s" % name)
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise _bad("inputs[%d]" % i, "expected an object {name, type, encoding, data}, got %s." % describe(item))
            if not isinstance(item.get("name"), str) or not item["name"]:
                raise _bad("inputs[%d].name" % i, "missing; name each list input (input_1, ...).")
            if item["name"] in out:
                raise _bad("inputs[%d].name" % i, 'duplicate input name %s.' % json.dumps(item["name"]))
            value = {k: v for k, v in item.items() if k != "name"}
            if "type" not in value and "comfy_type" in value:
                value["type"] = value["comfy_type"]
            out[item["name"]] = _check_value(value, "inputs[%d]" % i)
    elif raw is not None:
        raise _bad("inputs", "expected a map {name: encoded value} or a list of named inputs, got %s." % describe(raw))
    return out


def map_inputs(prompt, inputs):
    """{name: value} -> {node_id: value} (App Mode inputs: {"app:<name>": value}); input_k falls back to
    the k-th input (Remote Inputs by node id, then App Mode inputs in the editor's order). Every problem
    (unknown name, an input sent twice, a missing required input) is reported at once, worded as the
    mock worker (io-helpers injectInputs): "Inputs do not match the workflow: ...", details.problems."""
    nodes = remote_inputs(prompt)
    apps = {e["name"]: e for e in comfy_app_mode.app_inputs(prompt)}
    by_name = {}
    for node in nodes:
        by_name.setdefault(node["name"], []).append(node["node_id"])
    ordered = [n["node_id"] for n in nodes] + ["app:" + name for name in apps]
    label = dict((n["node_id"], n["name"]) for n in nodes)
    mapped = {}
    sender = {}
    problems = []
    for name, value in inputs.items():
        if name in by_name:
            targets = by_name[name]
        elif name in apps:
            targets = ["app:" + name]
        else:
            match = _INPUT_N.match(name)
            if not (match and int(match.group(1)) <= len(ordered)):
                known = ", ".join(json.dumps(n["name"]) for n in nodes) + (", " if nodes and apps else "")
                known = (known + ", ".join(json.dumps(a) for a in apps)) or "none"
                problems.append("inputs.%s: no Remote Input or App Mode input has this name (known: %s)" % (name, known))
                continue
            targets = [ordered[int(match.group(1)) - 1]]
        for node_id in targets:
            if node_id in sender:
                what = 'App Mode input "%s"' % node_id[4:] if node_id.startswith("app:") else 'Remote Input "%s"' % label[node_id]
                problems.append("inputs.%s: %s already receives inputs.%s; send it once" % (name, what, sender[node_id]))
                continue
            if node_id.startswith("app:"):
                problem = comfy_app_mode.check_value(apps[node_id[4:]], value, "inputs.%s" % name)
                if problem:
                    problems.append(problem)
                    continue
            sender[node_id] = name
            mapped[node_id] = value
    for node in nodes:
        if node["required"] and node["node_id"] not in sender:
            problems.append("inputs.%s: required (Remote Input node %s has no fallback)" % (node["name"], node["node_id"]))
    if problems:
        raise WireError("BAD_REQUEST", "Inputs do not match the workflow: %s" % "; ".join(problems), details={"problems": problems})
    return mapped


def to_json_value(value):
    """Copy of a message where every bytes ``data`` is base64 text (the JSON transport form)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    return value


def inject(prompt, mapped):
    """A copy of the prompt whose Remote Inputs carry their value as JSON text in ``payload``; App Mode
    values ("app:<name>", upload widgets already holding the uploaded file's name) go into their widgets."""
    out = copy.deepcopy(prompt)
    for node_id, value in mapped.items():
        if not node_id.startswith("app:"):
            out[node_id].setdefault("inputs", {})["payload"] = json.dumps(to_json_value(value), separators=(",", ":"))
    app = {k[4:]: v.get("data") for k, v in mapped.items() if k.startswith("app:")}
    return comfy_app_mode.inject(out, app) if app else out


def collect_outputs(prompt, history_entry):
    """{name: encoded value} from a /history entry (outputs[node].remote_output[0].value)."""
    outputs = (history_entry or {}).get("outputs") or {}
    found = {}
    for node in remote_outputs(prompt):
        ui = outputs.get(node["node_id"]) or {}
        items = ui.get("remote_output") or []
        if items and isinstance(items[0], dict) and "value" in items[0]:
            found[items[0].get("name") or node["name"]] = items[0]["value"]
    found.update(comfy_app_mode.collect(prompt, outputs)[0])  # files still in ComfyUI: {"data": {"file": ...}}
    return found


def contract(prompt, types=None):
    """The /schema body's inputs and outputs; ``types`` maps node ids to ComfyUI types."""
    types = types or {}
    return {
        "inputs": [
            {"name": n["name"], "nodeId": n["node_id"], "type": types.get(n["node_id"], "*"), "required": n["required"]}
            for n in remote_inputs(prompt)
        ],
        "outputs": [{"name": n["name"], "nodeId": n["node_id"], "type": types.get(n["node_id"], "*")} for n in remote_outputs(prompt)],
    }


def envelope(job_id, status, progress=None, outputs=None, error=None, message=None):
    """A job envelope; progress is kept as last reported (full when completed), ``message`` repeats the
    error's message on failed/cancelled jobs, unfinished jobs carry ``retry_after`` (as the mock worker)."""
    env = {"status": status, "job_id": job_id, "poll_url": "/jobs/%s" % job_id}
    progress = dict(progress) if progress else {"value": 0, "max": 1}
    if status == "completed":
        progress = {"value": progress["max"], "max": progress["max"]}
    env["progress"] = progress
    if error is not None:
        message = error.get("message") or message
    elif message is None:
        message = progress.get("message")
    if message:
        env["message"] = message
    if status not in TERMINAL:
        env["retry_after"] = RETRY_AFTER_SECONDS
    if outputs is not None:
        env["outputs"] = outputs
        if outputs:
            env["result"] = next(iter(outputs.values()))
    if error is not None:
        env["error"] = error
    return env


def error_envelope(code, message, details=None, job_id=None):
    env = {"status": "failed", "progress": {"value": 0, "max": 1}, "message": message, "error": {"code": code, "message": message}}
    if job_id:
        env["job_id"] = job_id
    if details is not None:
        env["error"]["details"] = details
    return env


# ---- multipart/form-data -------------------------------------------------------------------


def encode_multipart(message):
    """message -> (body bytes, content type): ``multipart_body`` joined into one buffer."""
    chunks, _, ctype = multipart_body(message)
    return b"".join(chunks), ctype


def multipart_body(message):
    """message -> (chunks, total length, content type), the chunks to send one after the other (the
    payloads themselves, never copied into one body). Binary values (bytes data, or base64 npy/png) become
    parts; a payload the message holds twice (a completed envelope's result is also one of its outputs)
    travels once."""
    parts = []
    names = {}  # id of a data object already sent -> its part name

    def walk(value):
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: walk(v) for k, v in value.items()}
        data = value.get("data")
        if value.get("encoding") in BINARY_ENCODINGS and isinstance(data, (str, bytes, bytearray, memoryview)):
            name = names.get(id(data))
            if name is None:
                name = "b%d" % len(parts)  # as the TypeScript encodeMultipart
                parts.append((name, base64.b64decode(data) if isinstance(data, str) else data))
                names[id(data)] = name
            out["data"] = {"part": name}
        return out

    head = json.dumps(walk(message), separators=(",", ":")).encode("utf-8")
    boundary = "comfyremote" + uuid.uuid4().hex
    chunks = [_part_head(boundary, "json", "application/json") + head]
    for name, raw in parts:
        chunks += [b"\r\n" + _part_head(boundary, name, "application/octet-stream"), raw]
    chunks.append(("\r\n--%s--\r\n" % boundary).encode("ascii"))
    return chunks, sum(memoryview(c).nbytes for c in chunks), "multipart/form-data; boundary=%s" % boundary


def iter_slices(chunks, size=1024 * 1024):
    """The chunks as ``bytes`` of at most ``size`` (a server copies each piece it is given: small pieces
    stay in the CPU cache and its buffers stay small, where one 48 MiB piece is copied twice whole)."""
    for chunk in chunks:
        if isinstance(chunk, bytes) and len(chunk) <= size:
            yield chunk
            continue
        view = memoryview(chunk).cast("B")
        for at in range(0, view.nbytes, size):
            yield bytes(view[at : at + size])


def _part_head(boundary, name, content_type):
    return ('--%s\r\nContent-Disposition: form-data; name="%s"\r\nContent-Type: %s\r\n\r\n' % (boundary, name, content_type)).encode("ascii")


# SHA-256 of parts (MultipartStream digests) runs here: hashlib releases the GIL, so it overlaps the
# server reading the rest of the body instead of adding to it
_HASHER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="comfy-remote-hash")


class MultipartStream:
    """Incremental multipart/form-data reader: ``feed(chunk)`` as the body arrives, then ``finish()``.

    Holds only the parts (each in its own buffer) and at most one delimiter's worth of look-ahead, never
    the whole body next to its parts. ``json_limit`` bounds the ``json`` part."""

    HEADER_LIMIT = 16 * 1024

    def __init__(self, content_type, json_limit=None, digests=False):
        """``digests``: also compute the SHA-256 of every binary part as it arrives; after ``finish()``,
        ``digests`` maps id(part bytes) -> (those bytes, hex digest) (comfy_web.fingerprint uses them)."""
        match = re.search(r'boundary="?([^";,]+)"?', content_type or "")
        if not match:
            raise WireError("BAD_REQUEST", "content-type: multipart/form-data needs a boundary parameter")
        boundary = match.group(1).encode("latin-1")
        self._dash = b"--" + boundary
        self._delim = b"\r\n--" + boundary
        self._buf = bytearray()
        self._state = "preamble"
        self._parts = {}
        self._name = None
        self._part = None
        self._json_limit = json_limit
        self._hashes = {} if digests else None
        self._hash = None
        self._hashed = None  # the last piece handed to the hashing thread
        self.digests = {}

    def feed(self, chunk):
        self._buf += chunk
        self._run()

    def _bad(self, message):
        return WireError("BAD_REQUEST", "body: malformed multipart (%s)" % message, details={"field": "body"})

    def _run(self):
        buf = self._buf
        while True:
            if self._state == "preamble":
                i = buf.find(self._dash)
                if i < 0:
                    del buf[: max(0, len(buf) - len(self._dash))]
                    return
                del buf[: i + len(self._dash)]
                self._state = "boundary"
            elif self._state == "boundary":
                if len(buf) < 2:
                    return
                if buf[:2] == b"--":
                    self._state = "done"
                    continue
                j = buf.find(b"\r\n")
                if j < 0:
                    if len(buf) > 1024:
                        raise self._bad("no line end after a boundary")
                    return
                del buf[: j + 2]
                self._state = "headers"
            elif self._state == "headers":
                k = buf.find(b"\r\n\r\n")
                if k < 0:
                    if len(buf) > self.HEADER_LIMIT:
                        raise self._bad("part headers longer than %d bytes" % self.HEADER_LIMIT)
                    return
                head = bytes(buf[:k])
                del buf[: k + 4]
                name = re.search(rb'(?:^|[;\s])name="([^"]*)"', head)
                if not name:
                    raise self._bad("a part without a name")
                self._name = name.group(1).decode("utf-8", "replace")
                if self._name in self._parts:
                    raise self._bad("two parts are named %r" % self._name)
                self._part = io.BytesIO()  # getvalue() hands its buffer over as bytes, without a copy
                self._parts[self._name] = self._part
                self._hash = hashlib.sha256() if self._hashes is not None and self._name != "json" else None
                if self._hash is not None:
                    self._hashes[self._name] = self._hash
                self._state = "body"
            elif self._state == "body":
                i = buf.find(self._delim)
                end = i if i >= 0 else max(0, len(buf) - len(self._delim) + 1)
                with memoryview(buf)[:end] as piece:  # no temporary copy; released before buf shrinks
                    self._part.write(piece)
                    if self._hash is not None:  # in order, on the hashing thread, while the loop reads on
                        self._hashed = _HASHER.submit(self._hash.update, bytes(piece))
                if self._name == "json" and self._json_limit is not None and self._part.tell() > self._json_limit:
                    raise WireError("PAYLOAD_TOO_LARGE", "json: the 'json' part is over %d bytes; send binary payloads as their own parts" % self._json_limit, 413)
                if i < 0:
                    del buf[:end]
                    return
                del buf[: i + len(self._delim)]
                self._state = "boundary"
            else:  # done: ignore the epilogue
                buf.clear()
                return

    def finish(self):
        """The message, every {"part": name} data replaced by that part's bytes."""
        if self._state != "done":
            raise self._bad("the closing boundary is missing (truncated body?)")
        parts = self._parts
        if "json" not in parts:
            raise WireError("BAD_REQUEST", "body: multipart request needs a part named 'json' holding the message")
        try:
            text = parts.pop("json").getvalue().decode("utf-8")
        except ValueError as exc:
            raise WireError("BAD_REQUEST", "json: the 'json' part is not valid UTF-8 (%s)" % exc) from exc
        message = loads_bounded(text, "json")
        for name in list(parts):
            parts[name] = parts[name].getvalue()  # the part's own buffer, as bytes (no copy)
        if self._hashed is not None:
            self._hashed.result()  # one thread, first in first out: every piece of this request is hashed
        for name in list(parts):
            if self._hashes is not None:
                self.digests[id(parts[name])] = (parts[name], self._hashes[name].hexdigest())  # holds it: no id reuse

        def walk(value):
            if isinstance(value, list):
                return [walk(v) for v in value]
            if not isinstance(value, dict):
                return value
            out = {k: walk(v) for k, v in value.items()}
            ref = value.get("data")
            if isinstance(ref, dict) and set(ref) == {"part"}:
                if ref["part"] not in parts:
                    raise WireError("BAD_REQUEST", "data.part: no multipart part named %r" % ref["part"])
                out["data"] = parts[ref["part"]]
            return out

        return walk(message)


def decode_multipart(body, content_type):
    """(body, content type) -> message with every {"part": name} data replaced by that part's bytes."""
    stream = MultipartStream(content_type)
    stream.feed(body)
    return stream.finish()


def _media_ranges(accept):
    ranges = []
    for part in accept.split(","):
        fields = [f.strip().lower() for f in part.split(";")]
        q = 1.0
        for param in fields[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        ranges.append((fields[0], q))
    return ranges


def wants_multipart(accept, has_values=True):
    """Multipart only when the caller accepts it (q > 0) and it is worth it (values), or JSON is not accepted."""
    if not accept or "multipart/form-data" not in accept.lower():
        return False
    ranges = _media_ranges(accept)
    if not any(t == "multipart/form-data" and q > 0 for t, q in ranges):
        return False
    json_ok = any(t in ("application/json", "application/*", "*/*") and q > 0 for t, q in ranges)
    return has_values or not json_ok


def binary_size(value):
    """Characters/bytes of every string and bytes value inside ``value`` (the SSE size rule)."""
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(binary_size(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(binary_size(v) for v in value)
    return 0
