"""The worker HTTP contract as a FastAPI app (the same routes as the mock worker).

``build_app(backend, prompt, contract, settings)``; ``backend`` hides Modal:
  backend.spawn(job_id, inputs) -> call id      (Function.spawn)
  backend.poll(call_id, timeout) -> (done, result) (FunctionCall.from_id(..).get(timeout=timeout): waits
                                                   up to ``timeout`` seconds for the call to finish)
  backend.cancel(call_id)                         (FunctionCall.cancel)
  backend.store: dict-like (get / item set)       (modal.Dict shared with the GPU workers)
  backend.deliver_webhooks(job_id)                (optional; spawns the deliver_webhooks Function)
FastAPI is imported inside ``build_app`` so ``modal deploy`` can import this module without it.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import comfy_heads
import comfy_refs
import comfy_webhooks
import comfy_wire
from comfy_wire import TERMINAL, WireError

PROTOCOL_VERSION = 1
TRANSPORTS = ["json", "multipart"]
SSE_VALUE_LIMIT = 256 * 1024  # binary output bytes above which SSE events leave the values out (as the mock worker)
SSE_HEARTBEAT_SECONDS = 15.0
JSON_TYPES = ("application/json", "text/json")
IDEMPOTENCY_KEY_MAX = 256  # characters (as the mock worker)
ADMISSION_SECONDS = 10.0  # POST /run waits this long for ComfyUI to accept (or refuse) the prompt ...
PICKUP_SECONDS = 1.0  # ... once a runner took the job up within this (else it waits for a container: pending)
PENDING_MESSAGES = ("submitted", "starting", "queued")  # runner progress of a job ComfyUI has not started yet
CANCELLED_MESSAGE = "The job was cancelled."
# multipart answers above this go out in pieces of this size, the payloads never joined into one body
REPLY_SLICE_BYTES = 1024 * 1024


async def _aiter(pieces):
    """A plain iterator as an async one (each piece is cheap: no thread hop per piece)."""
    for piece in pieces:
        yield piece


def _error_status(code):
    codes = {"UNAUTHORIZED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "IDEMPOTENCY_CONFLICT": 409, "PAYLOAD_TOO_LARGE": 413, "UNSUPPORTED_MEDIA_TYPE": 415, "REF_TOO_LARGE": 413, "RANGE_NOT_SATISFIABLE": 416, "REF_FETCH_FAILED": 502}
    return codes.get(code, 400)


def _feed(digest, value, binary_data=False, known=None, inline=False):
    """Hash one value: metadata as canonical JSON, each payload as its size and SHA-256 (as the mock
    worker; ``known`` maps id(payload) -> (payload, SHA-256 hex) computed while it streamed in). Base64 text
    and bytes of a payload hash alike. ``inline``: payload bytes hashed in place (as apps generated before
    payload digests stored their fingerprints)."""
    if binary_data and isinstance(value, str):
        value = base64.b64decode(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        if inline:
            digest.update(b"b%d:" % len(value))
            digest.update(value)
        else:
            held, sha = (known or {}).get(id(value), (None, None))
            if held is not value:
                sha = hashlib.sha256(value).hexdigest()
            digest.update(b"b%d:%s;" % (len(value), sha.encode("ascii")))
    elif isinstance(value, (list, tuple)):
        digest.update(b"[%d:" % len(value))
        for item in value:
            _feed(digest, item, known=known, inline=inline)
        digest.update(b"]")
    elif isinstance(value, dict):
        binary = value.get("encoding") in comfy_wire.BINARY_ENCODINGS
        digest.update(b"{%d:" % len(value))
        for key in sorted(value):
            digest.update(json.dumps(key).encode() + b"=")
            _feed(digest, value[key], binary_data=binary and key == "data", known=known, inline=inline)
        digest.update(b"}")
    else:
        digest.update(json.dumps(value).encode() + b";")


def fingerprint(inputs, known=None, inline=False):
    """SHA-256 of a request's inputs (every payload byte) to spot a reused Idempotency-Key; ``known``:
    payload digests the multipart reader computed as the bytes arrived (MultipartStream.digests)."""
    digest = hashlib.sha256()
    _feed(digest, inputs, known=known, inline=inline)
    return digest.hexdigest()


def run_status(env):
    """HTTP status of a POST /run answer (as the mock worker)."""
    if env["status"] not in TERMINAL:
        return 202
    if env["status"] == "failed" and (env.get("error") or {}).get("code") in ("BAD_REQUEST", "COMFYUI_VALIDATION"):
        return 400
    return 200


def timings(record, timing, finished_at):
    """`timings` of a finished job from its record (created), the runner's timing (started, startup,
    finished; cold: this job started the container, restored: from a memory snapshot, None without
    snapshots) and when the web first saw it finished."""
    timing = timing or {}
    created = record.get("created", finished_at)
    finished = timing.get("finished") or finished_at
    started = timing.get("started") or finished
    startup = float(timing.get("startup") or 0.0)
    out = {
        "queue_seconds": round(max(0.0, started - created - startup), 3),
        "startup_seconds": round(startup, 3),
        "run_seconds": round(max(0.0, finished - started), 3),
        "transfer_seconds": round(float(record.get("transfer") or 0.0) + float(timing.get("transfer") or 0.0), 3),
    }
    out["cold_start"] = bool(timing.get("cold"))  # always sent (a job the runner never took: false), as the mock worker
    if timing.get("cold") and timing.get("restored") is not None:
        out["restored_from_snapshot"] = bool(timing["restored"])
    return out


class Jobs:
    """Job records in the shared store; every read returns a wire envelope."""

    def __init__(self, backend, poll_interval=0.25):
        self.backend = backend
        self.store = backend.store
        self.poll_interval = poll_interval

    def envelope(self, job_id, refs=True, block=0.0):
        """The job's envelope with `timings` (finished jobs) and `webhook` (jobs with a webhook); with
        ``refs`` (and a request that asked for output_refs) large outputs as refs. ``block``: seconds the
        backend may wait for a running call to finish before answering (its end is seen at once)."""
        env = self._envelope(job_id, refs, block)
        extra = {}
        if env["status"] in TERMINAL:
            record = self.store.get("job:" + job_id) or {}
            finished_at = record.get("finished_at")
            if finished_at is None:
                finished_at = time.time()
                self.store["job:" + job_id] = dict(record, finished_at=finished_at)
            extra["timings"] = timings(record, self.store.get("timing:" + job_id), finished_at)
        hook = self.store.get("webhook:" + job_id)
        if hook is not None:
            extra["webhook"] = dict(hook["status"])
        return dict(env, **extra) if extra else env

    def create(self, inputs, idempotency_key=None, output_refs=False, transfer=0.0, webhooks=None, webhook=None, digests=None):
        """A new job (or, for a known Idempotency-Key, its job); ``digests``: MultipartStream.digests."""
        digest = fingerprint(inputs, digests) if idempotency_key else None
        if idempotency_key:
            existing = self.store.get("idem:" + idempotency_key)
            if existing:
                stored = existing.get("fingerprint")
                # a key stored by an app deployed before payload digests hashed the payloads in place
                if stored != digest and stored != fingerprint(inputs, inline=True):
                    raise WireError(
                        "IDEMPOTENCY_CONFLICT",
                        "Idempotency-Key %s was already used for a different request (job %s); use a new key for a new request." % (json.dumps(idempotency_key), existing["job_id"]),
                        409,
                        {"job_id": existing["job_id"]},
                    )
                return existing["job_id"]
        job_id = str(uuid.uuid4())
        self.store["progress:" + job_id] = {"value": 0, "max": 1, "message": "submitted"}
        call_id = self.backend.spawn(job_id, inputs)
        record = {"call_id": call_id, "created": time.time(), "transfer": round(transfer, 3)}
        if output_refs:
            record["output_refs"] = True  # large binary outputs are answered as refs
        if idempotency_key:
            record["idem"] = idempotency_key  # freed when the caller releases the job
        self.store["job:" + job_id] = record
        if webhook is not None and webhooks is not None:
            webhooks.register(job_id, webhook)
            deliver = getattr(self.backend, "deliver_webhooks", None)
            if deliver is not None:
                deliver(job_id)
        if idempotency_key:
            self.store["idem:" + idempotency_key] = {"job_id": job_id, "fingerprint": digest}
        return job_id

    def exists(self, job_id):
        return self.store.get("job:" + job_id) is not None

    def _envelope(self, job_id, refs=True, block=0.0):
        """The job's envelope; with ``refs`` (and a request that asked for output_refs) large outputs as refs."""
        record = self.store.get("job:" + job_id)
        if record is None:
            raise WireError(
                "NOT_FOUND", "Job %s is unknown to this worker; check the id (finished jobs are kept while their result is)." % job_id, 404, {"job_id": job_id}
            )
        if record.get("released"):
            raise WireError(
                "NOT_FOUND", "Job %s was released by its caller (DELETE /jobs/%s/outputs): its inputs and outputs are deleted. Submit the request again." % (job_id, job_id), 404, {"job_id": job_id, "released": True}
            )
        final = self.store.get("final:" + job_id)
        if final is not None:
            return final
        reported, last = self._progress(job_id)
        if self.store.get("cancel:" + job_id):
            env = comfy_wire.envelope(job_id, "cancelled", progress=last, error={"code": "CANCELLED", "message": CANCELLED_MESSAGE})
            self.store["final:" + job_id] = env
            return env
        try:
            done, result = self.backend.poll(record["call_id"], block)
        except Exception as exc:  # noqa: BLE001 - a crashed worker is a failed job
            env = comfy_wire.envelope(job_id, "failed", progress=last, error={"code": "JOB_FAILED", "message": "worker error: %s" % exc})
            self.store["final:" + job_id] = env
            return env
        if block > 0:
            reported, last = self._progress(job_id)  # the poll waited: what the runner reported by its end
        if done:
            result = result or {}
            status = result.get("status", "failed")
            # completed: full on the scale the runner reported ({100, 100} for ComfyUI jobs, also when the
            # job ended before the web saw any node run)
            env = comfy_wire.envelope(job_id, status, progress=reported if status == "completed" else last, outputs=result.get("outputs"), error=result.get("error"))
            return comfy_refs.envelope_with_refs(env, job_id) if refs and record.get("output_refs") else env
        if last is None:
            return comfy_wire.envelope(job_id, "pending")
        return comfy_wire.envelope(job_id, "running", progress=last, message=last.get("message"))

    def _progress(self, job_id):
        """(as the runner reported it, as envelopes show it): kept as last reported when the job ends; a job
        ComfyUI has not started shows {value: 0, max: 1} without message (as the mock worker)."""
        reported = self.store.get("progress:" + job_id)
        return reported, None if reported and reported.get("message") in PENDING_MESSAGES else reported

    def admit(self, job_id, seconds=ADMISSION_SECONDS, step=0.005):
        """Waits (bounded) until ComfyUI accepted the job's prompt or the job ended, and returns the envelope
        as of then, as the mock worker's POST /run: a prompt ComfyUI refuses is answered at once (400
        COMFYUI_VALIDATION); an accepted one is pending (the state it had when ComfyUI accepted it, even when
        it runs or has finished since: the mock worker answers in the same tick ComfyUI accepts)."""
        began = time.monotonic()
        deadline = began + max(0.0, seconds)
        while True:
            env = self.envelope(job_id)
            progress = self.store.get("progress:" + job_id) or {}  # read after env: a finished job has moved on
            admitted = progress.get("message") not in ("submitted", "starting")
            if progress.get("message") == "submitted" and time.monotonic() - began >= min(PICKUP_SECONDS, seconds):
                deadline = 0.0  # no runner took it up yet (a cold container, busy workers): it waits in a queue
            if env["status"] in TERMINAL and not (admitted and env["status"] != "cancelled"):
                return env  # ended before ComfyUI accepted it (refused, unreachable) or cancelled meanwhile
            if admitted or time.monotonic() >= deadline:
                pending = comfy_wire.envelope(job_id, "pending")
                return dict(pending, webhook=env["webhook"]) if "webhook" in env else pending
            time.sleep(step)
            step = min(step * 1.5, 0.1)

    def cancel(self, job_id):
        env = self.envelope(job_id)
        if env["status"] in TERMINAL:
            return env
        self.store["cancel:" + job_id] = True
        try:
            self.backend.cancel(self.store.get("job:" + job_id)["call_id"])
        except Exception:  # noqa: BLE001 - the flag alone stops the runner
            pass
        return self.envelope(job_id)

    def release(self, job_id):
        """DELETE /jobs/:id/outputs: forget a finished job now instead of at its TTL (record, progress, timings,
        Idempotency-Key); it then answers 404 as released. Modal drops the call's result when it expires."""
        env = self._envelope(job_id, refs=False)
        if env["status"] not in TERMINAL:
            raise WireError("BAD_REQUEST", "Job %s is %s: release it once it has finished, or cancel it with DELETE /jobs/%s." % (job_id, env["status"], job_id), 400, {"job_id": job_id, "status": env["status"]})
        key = (self.store.get("job:" + job_id) or {}).get("idem")
        if key and (self.store.get("idem:" + key) or {}).get("job_id") == job_id:
            self.store.pop("idem:" + key)
        for name in ("progress:", "final:", "cancel:", "timing:"):
            if name + job_id in self.store:
                self.store.pop(name + job_id)
        self.store["job:" + job_id] = {"released": True}

    def wait(self, job_id, seconds, changed):
        """The envelope once ``changed(env)``, or after ``seconds``. Looks every ``poll_interval`` (progress,
        cancel flags), and in between waits on the call itself, so a finished job answers at once."""
        env = self.envelope(job_id)
        deadline = time.monotonic() + max(0.0, seconds)
        while not changed(env) and time.monotonic() < deadline:
            env = self.next_envelope(job_id, min(self.poll_interval, max(0.0, deadline - time.monotonic())), changed)
        return env

    def next_envelope(self, job_id, seconds, changed):
        """The envelope after ``seconds``, or sooner when the call finishes meanwhile (or ``changed(env)``)."""
        began = time.monotonic()
        env = self.envelope(job_id, block=seconds)
        rest = seconds - (time.monotonic() - began)
        if rest > 0 and not changed(env):
            time.sleep(rest)  # the job ended without an answer yet (cancel flag), or the backend cannot wait
        return env


def make_webhooks(store, settings):
    """The app's webhook set-up: secret COMFY_REMOTE_WEBHOOK_SECRET (from the auth Secret), default URL
    COMFY_REMOTE_WEBHOOK_URL, COMFY_REMOTE_ALLOW_LOOPBACK_WEBHOOKS=1 for local development only."""
    return comfy_webhooks.Webhooks(
        store,
        secret=os.environ.get(comfy_webhooks.SECRET_ENV) or None,
        default_url=settings.get("webhook_url") or os.environ.get(comfy_webhooks.URL_ENV) or None,
        allow_loopback=os.environ.get("COMFY_REMOTE_ALLOW_LOOPBACK_WEBHOOKS") == "1",
        options=settings.get("webhook_options"),
    )


def webhook_body(env, event):
    """The signed body of one event: the envelope as GET /jobs/:id answers it, large values left out."""
    env = dict((k, v) for k, v in env.items() if k != "webhook")
    env = comfy_webhooks.without_large_values(env, SSE_VALUE_LIMIT, comfy_wire.binary_size)
    env["event"] = event
    return json.dumps(comfy_wire.to_json_value(env), separators=(",", ":")).encode("utf-8")


def deliver_webhooks(backend, job_id, settings):
    """Body of the app's deliver_webhooks Function: follows the job and sends its events. State is in
    the store, so it does not depend on the web container that took the request staying up."""
    jobs = Jobs(backend, settings.get("poll_interval", 0.25))
    webhooks = make_webhooks(backend.store, settings)
    return comfy_webhooks.drive(webhooks, job_id, jobs.envelope, webhook_body, poll_seconds=jobs.poll_interval)


def check_token(header, token):
    """Constant-time bearer token check."""
    if not header or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode("utf-8"), token.encode("utf-8"))


def build_app(backend, prompt, contract, settings):
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response, StreamingResponse
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    jobs = Jobs(backend, settings.get("poll_interval", 0.25))
    webhooks = make_webhooks(backend.store, settings)
    wait_max = float(settings.get("wait_max_seconds", 120))
    max_bytes = int(settings.get("max_request_bytes", 256 * 1024 * 1024))
    ref_policy = comfy_refs.RefPolicy(
        allow_private=bool(settings.get("allow_private_refs", False)),
        allow_http=bool(settings.get("allow_http_refs", False)),
        max_bytes=int(settings.get("ref_max_bytes", max_bytes)),
        timeout=float(settings.get("ref_timeout_seconds", 120)),
        address_filter=settings.get("ref_address_filter"),
    )
    auth_mode = settings.get("auth_mode", "token")
    token_env = settings.get("token_env", "COMFY_REMOTE_TOKEN")
    # redirect_slashes=False: POST /run/ is a 404 like any unknown route (as the mock worker), not a redirect
    app = FastAPI(title="comfy-remote worker: %s" % settings.get("app_name", ""), docs_url=None, redoc_url=None)
    app.router.redirect_slashes = False  # (FastAPI < 0.100 has no such argument)

    def body(chunks, size, status, media_type, headers=None):
        """A response of these chunks: one body when small, else streamed in slices with Content-Length
        (the payloads are never joined into one body, nor copied whole by the server)."""
        headers = dict(headers or {})
        if size <= REPLY_SLICE_BYTES:
            return Response(b"".join(chunks), status_code=status, media_type=media_type, headers=headers)
        headers["Content-Length"] = str(size)
        return StreamingResponse(_aiter(comfy_wire.iter_slices(chunks, REPLY_SLICE_BYTES)), status_code=status, media_type=media_type, headers=headers)

    def reply(request, env, status=200):
        if comfy_wire.wants_multipart(request.headers.get("accept"), "outputs" in env):
            chunks, size, ctype = comfy_wire.multipart_body(env)
            return body(chunks, size, status, ctype)
        return JSONResponse(comfy_wire.to_json_value(env), status_code=status)

    def fail(request, code, message, status=None, details=None, headers=None):
        resp = reply(request, comfy_wire.error_envelope(code, message, details), status or _error_status(code))
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp

    def wait_param(request):
        raw = request.query_params.get("wait")
        if raw is None or raw == "":
            return 0.0
        try:
            value = float(raw)
        except ValueError:
            message = "querystring.wait: must be a number of seconds (waits over the worker's maximum are cut to it)"
            raise WireError("BAD_REQUEST", message, details={"problems": [message]}) from None
        if value < 0:
            message = "querystring.wait: must be >= 0"
            raise WireError("BAD_REQUEST", message, details={"problems": [message]})
        return min(value, wait_max)

    def refusal(request):
        """The 401/503 answer of a request that fails the token check, else None."""
        if request.url.path == "/health" or auth_mode != "token":
            return None
        token = os.environ.get(token_env, "")
        if not token:
            return fail(request, "UNAUTHORIZED", "auth is on but the server has no token: create the Modal Secret with %s set and redeploy" % token_env, 503)
        header = request.headers.get("authorization")
        if not check_token(header, token):
            why = "Missing Authorization header" if not header else "Invalid token"
            message = "%s; send \"Authorization: Bearer <token>\" with the app's token (%s: its Modal Secret when deployed, --token with comfy-remote-modal serve)." % (why, token_env)
            return fail(request, "UNAUTHORIZED", message, 401, headers={"WWW-Authenticate": 'Bearer realm="comfy-remote"'})
        return None

    class Guard:
        """Auth before every route but /health. Plain ASGI: Starlette's BaseHTTPMiddleware (@app.middleware)
        runs a task group for every body chunk it passes on (~200 for a 48 MiB upload)."""

        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            refused = refusal(Request(scope)) if scope["type"] == "http" else None
            if refused is not None:
                return await refused(scope, receive, send)
            await self.app(scope, receive, send)

    app.add_middleware(Guard)

    @app.exception_handler(WireError)
    async def wire_error(request, exc):
        return fail(request, exc.code, exc.message, exc.status, exc.details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):  # unknown route or method: an envelope like the mock worker's
        if exc.status_code in (404, 405):
            return fail(request, "NOT_FOUND", "No route %s %s; the routes are POST /run, GET /jobs/:id, DELETE /jobs/:id, GET /jobs/:id/events, GET /schema, GET /health" % (request.method, request.url.path), 404)
        return fail(request, "BAD_REQUEST", str(exc.detail), exc.status_code)

    @app.exception_handler(Exception)
    async def worker_fault(request, exc):  # anything unexpected is still an envelope
        return fail(request, "WORKER_ERROR", "the worker failed: %s: %s; retry, and check the app's logs (modal app logs)" % (type(exc).__name__, exc), 500)

    @app.api_route("/health", methods=["GET", "HEAD"])  # HEAD for uptime checks (as the mock worker)
    def health():
        return {"status": "ok", "protocol_version": PROTOCOL_VERSION, "engine": "modal", "transports": TRANSPORTS, "auth": auth_mode, "accepting": True}

    @app.get("/schema")
    def schema():
        return dict(contract, protocol_version=PROTOCOL_VERSION, transports=TRANSPORTS)

    async def submit(request: Request):
        started = time.monotonic()
        try:
            declared = int(request.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise WireError("PAYLOAD_TOO_LARGE", "body: %d bytes is over the limit of %d; send less or raise maxRequestBytes" % (declared, max_bytes), 413)
            ctype = request.headers.get("content-type", "")
            media = ctype.split(";", 1)[0].strip().lower()
            multipart = media == "multipart/form-data"
            if not multipart and media and media not in JSON_TYPES and not media.endswith("+json"):
                raise WireError("UNSUPPORTED_MEDIA_TYPE", "Unsupported Content-Type %s; send application/json or multipart/form-data." % json.dumps(ctype), 415)
            # multipart is parsed as it streams in (each part in its own buffer, never the whole body
            # next to its parts); JSON is read into one buffer. Both bounded even without Content-Length.
            # with an Idempotency-Key, payloads are hashed as they arrive (for the fingerprint)
            digests = bool(request.headers.get("idempotency-key"))
            parser = comfy_wire.MultipartStream(ctype, json_limit=max_bytes, digests=digests) if multipart else None
            raw, size = bytearray(), 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise WireError("PAYLOAD_TOO_LARGE", "body: more than the limit of %d bytes; send less or raise maxRequestBytes" % max_bytes, 413)
                if parser is not None:
                    parser.feed(chunk)
                else:
                    raw += chunk
            if parser is not None:
                body = parser.finish()
            else:
                if not raw and media:
                    raise WireError("BAD_REQUEST", 'body: empty with Content-Type %s; send a JSON object {"inputs": {...}}.' % media, details={"field": "body"})
                try:
                    text = raw.decode("utf-8") or "{}"
                except ValueError as exc:
                    raise WireError("BAD_REQUEST", 'body: not valid JSON (%s); send a JSON object {"inputs": {...}}.' % exc, details={"field": "body"}) from exc
                del raw
                body = comfy_wire.loads_bounded(text)
            inputs = comfy_wire.normalize_inputs(body)
            request_id = body.get("request_id", body.get("requestId"))
            if request_id is not None and not isinstance(request_id, str):
                raise WireError("BAD_REQUEST", "request_id: must be a string, got %s." % comfy_wire.describe(request_id), details={"field": "request_id"})
            output_refs = body.get("output_refs", body.get("outputRefs"))
            if output_refs is not None and not isinstance(output_refs, bool):
                raise WireError("BAD_REQUEST", "output_refs: must be true or false, got %s." % comfy_wire.describe(output_refs), details={"field": "output_refs"})
            key = request.headers.get("idempotency-key")
            if key is not None and (key == "" or len(key) > IDEMPOTENCY_KEY_MAX):
                why = "must not be empty" if key == "" else "at most %d characters; send a shorter key (a UUID)" % IDEMPOTENCY_KEY_MAX
                message = "headers.idempotency-key: " + why  # worded as the mock worker's
                raise WireError("BAD_REQUEST", message, details={"problems": [message]})
            # checked before a job exists, in the mock worker's order: pickle, types, payload heads, names
            comfy_wire.check_pickle(inputs)  # never unpickled: refused up front
            comfy_wire.check_types(contract, inputs)  # an INT is not an IMAGE
            comfy_heads.check_inputs(inputs)  # base64 text, npy/png headers: a 400 now, not a failed job
            comfy_wire.map_inputs(prompt, inputs)  # unknown/missing names
            await run_in_threadpool(comfy_refs.resolve_input_refs, inputs, ref_policy)  # refs -> bytes (SSRF-safe)
            wait = wait_param(request)
            hook = webhooks.target(body)
            transfer = time.monotonic() - started  # receiving and decoding the request

            def create():
                replay = bool(key) and backend.store.get("idem:" + key) is not None  # answers as the job is now
                job_id = jobs.create(inputs, key, output_refs is True, transfer, webhooks, hook, parser.digests if parser else None)
                env = jobs.envelope(job_id) if replay else jobs.admit(job_id, float(settings.get("admission_seconds", ADMISSION_SECONDS)))
                if wait > 0 and env["status"] not in TERMINAL:
                    env = jobs.wait(job_id, wait, lambda e: e["status"] in TERMINAL)
                return env

            env = await run_in_threadpool(create)
            resp = reply(request, env, run_status(env))
            if resp.status_code == 202:
                resp.headers["Location"] = env["poll_url"]
            return resp
        except WireError as exc:
            return fail(request, exc.code, exc.message, exc.status, exc.details)

    app.post("/run")(submit)
    app.post("/")(submit)

    @app.get("/jobs/{job_id}")
    def get_job(job_id: str, request: Request):
        first = jobs.envelope(job_id)
        key = (first["status"], json.dumps(first.get("progress"), sort_keys=True))
        env = jobs.wait(job_id, wait_param(request), lambda e: e["status"] in TERMINAL or (e["status"], json.dumps(e.get("progress"), sort_keys=True)) != key)
        return reply(request, env)

    @app.get("/jobs/{job_id}/outputs/{path:path}")
    def job_output(job_id: str, path: str, request: Request):
        """Raw bytes of a finished job's binary output (the ``ref`` of output_refs envelopes), with Range."""
        env = jobs.envelope(job_id, refs=False)
        parts = path.split("/")
        value = comfy_refs.find_output(env.get("outputs") or {}, parts)
        data = comfy_refs.payload(value)
        if data is None:
            known = ", ".join(env.get("outputs") or {}) or "(none)"
            if env["status"] not in TERMINAL:
                raise WireError("NOT_FOUND", "Job %s has no outputs (it is %s); read its envelope first." % (job_id, env["status"]), 404, {"job_id": job_id, "status": env["status"]})
            raise WireError("NOT_FOUND", "Job %s has no binary output %s; outputs: %s." % (job_id, json.dumps(path), known), 404, {"job_id": job_id, "output": path})
        size = len(data)
        headers = {"Accept-Ranges": "bytes"}
        span = comfy_refs.parse_range(request.headers.get("range"), size)
        if span == "unsatisfiable":
            return fail(request, "RANGE_NOT_SATISFIABLE", "Range %s is outside the %d bytes of output %s." % (request.headers.get("range"), size, json.dumps(path)), 416, {"size": size}, headers={"Content-Range": "bytes */%d" % size})
        if span is None:
            return body([data], size, 200, comfy_refs.content_type(value), headers)
        start, end = span
        headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
        return body([memoryview(data)[start : end + 1]], end + 1 - start, 206, comfy_refs.content_type(value), headers)

    @app.delete("/jobs/{job_id}")
    def cancel_job(job_id: str, request: Request):
        return reply(request, jobs.cancel(job_id))

    @app.delete("/jobs/{job_id}/outputs")
    def release_job(job_id: str):
        """The caller has read what it needs: the job is forgotten now instead of at its TTL (204)."""
        jobs.release(job_id)
        return Response(status_code=204)

    @app.get("/jobs/{job_id}/preview")
    def job_preview(job_id: str):
        env = jobs.envelope(job_id)
        found = backend.store.get("preview:" + job_id) if env["status"] not in TERMINAL else None
        if found is None:
            if env["status"] in TERMINAL:
                why = "job %s has finished: previews exist only while it runs; read its outputs with GET /jobs/%s" % (job_id, job_id)
            else:
                why = "job %s has no preview yet (previews come from samplers while they run); try again in a moment" % job_id
            raise WireError("NOT_FOUND", why, 404, {"job_id": job_id, "preview": False})
        headers = {"Cache-Control": "no-store", "X-Preview-Seq": str(found.get("seq", 0))}
        if found.get("node"):
            headers["X-Preview-Node"] = str(found["node"])
        if found.get("class_type"):
            headers["X-Preview-Class"] = str(found["class_type"])
        return Response(found["data"], media_type=found.get("mime", "image/jpeg"), headers=headers)

    def preview_event(found):
        data = dict((k, found[k]) for k in ("node", "class_type") if found.get(k))
        data.update(mime=found.get("mime", "image/jpeg"), data=base64.b64encode(found["data"]).decode("ascii"))
        return "event: preview\ndata: %s\n\n" % json.dumps(data, separators=(",", ":"))

    @app.get("/jobs/{job_id}/events")
    def job_events(job_id: str, request: Request):
        jobs.envelope(job_id)  # 404 before streaming
        limit = float(settings.get("events_max_seconds", 3600))
        previews = request.query_params.get("previews") in ("1", "true")

        def stream():
            last = None
            seen_preview = None
            version = 0
            deadline = time.monotonic() + limit
            beat = time.monotonic() + SSE_HEARTBEAT_SECONDS
            yield "retry: 1000\n\n"
            env = jobs.envelope(job_id)
            while time.monotonic() < deadline:
                if "outputs" in env and comfy_wire.binary_size(env["outputs"]) > SSE_VALUE_LIMIT:
                    env = dict((k, v) for k, v in env.items() if k not in ("outputs", "result"))
                    env["values_omitted"] = True  # read them once with GET /jobs/:id
                text = json.dumps(comfy_wire.to_json_value(env), separators=(",", ":"))
                if text != last:
                    last = text
                    version += 1
                    beat = time.monotonic() + SSE_HEARTBEAT_SECONDS
                    yield "id: %d\ndata: %s\n\n" % (version, text)
                elif time.monotonic() >= beat:
                    beat = time.monotonic() + SSE_HEARTBEAT_SECONDS
                    yield ": keep-alive\n\n"  # keeps proxies from closing an idle stream
                if env["status"] in TERMINAL:
                    return
                found = backend.store.get("preview:" + job_id) if previews else None
                if found is not None and found.get("seq") != seen_preview:
                    seen_preview = found.get("seq")
                    yield preview_event(found)
                env = jobs.next_envelope(job_id, jobs.poll_interval, lambda e: e["status"] in TERMINAL)  # the end at once

        headers = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    return app
