"""Large values move through the generated app without needless copies or waits (issue 12: the served
app within 1.2x of the mock worker): the multipart reader hands its part buffers over, the answer goes
out as the payloads themselves in slices, the in-process modal passes immutable payloads by reference,
and a job that finishes is answered at once instead of at the next poll."""

import threading
import time
import tracemalloc

import pytest

from scaffolder_fixtures import modules, project  # noqa: F401 - pytest fixtures

import modal  # noqa: E402, I001 - the stub: scaffolder_helpers puts it first on sys.path

MIB = 1024 * 1024


def _image(raw):
    return {"type": "IMAGE", "encoding": "npy", "data": raw}


def test_the_multipart_reader_keeps_one_copy_of_each_part(modules):
    wire, _ = modules
    payload = bytes(range(256)) * (8 * MIB // 256)
    body, ctype = wire.encode_multipart({"inputs": {"image": _image(payload)}})
    tracemalloc.start()
    try:
        stream = wire.MultipartStream(ctype)
        for at in range(0, len(body), 64 * 1024):  # as a server hands the body over
            stream.feed(body[at : at + 64 * 1024])
        message = stream.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    data = message["inputs"]["image"]["data"]
    assert type(data) is bytes and data == payload
    # the part's buffer becomes the value: one payload (plus growth slack), not the buffer and a copy
    assert peak < 1.4 * len(payload), "peak %d for a %d-byte part" % (peak, len(payload))


def test_the_multipart_answer_is_the_payloads_themselves_in_slices(modules):
    wire, _ = modules
    payload = bytes(range(256)) * (3 * MIB // 256) + b"tail"
    value = _image(payload)
    chunks, size, ctype = wire.multipart_body({"status": "completed", "result": value, "outputs": {"image": value}})
    assert sum(1 for c in chunks if c is payload) == 1  # sent as is, and once although held twice
    assert size == sum(len(c) for c in chunks)
    pieces = list(wire.iter_slices(chunks, MIB))
    assert max(len(p) for p in pieces) <= MIB and sum(len(p) for p in pieces) == size
    decoded = wire.decode_multipart(b"".join(pieces), ctype)
    assert decoded["outputs"]["image"]["data"] == payload and decoded["result"]["data"] == payload
    joined, joined_ctype = wire.encode_multipart({"outputs": {"image": _image(bytearray(b"\x93NUMPY"))}})
    assert wire.decode_multipart(joined, joined_ctype)["outputs"]["image"]["data"] == b"\x93NUMPY"


def test_the_stub_passes_large_bytes_by_reference_and_still_pickles_the_rest():
    app = modal.App("stub-copies")

    @app.function()
    def echo(value):
        return value

    big, mutable = b"\x01" * (64 * 1024), bytearray(b"\x02" * (64 * 1024))
    out = echo.spawn({"big": big, "mutable": mutable, "small": b"x"}).get(timeout=10)
    assert out["big"] is big  # immutable: sharing it cannot be told from a copy
    assert out["mutable"] == mutable and out["mutable"] is not mutable  # mutable: a copy, as over the network
    with pytest.raises(Exception, match="pickle"):
        echo.spawn(threading.Lock())  # what Modal cannot serialize still fails


class _Backend:
    """A call that finishes when ``done`` is set; ``poll`` waits up to ``timeout`` like FunctionCall.get."""

    def __init__(self, waits=True, outputs=None):
        self.store, self.done, self.waits, self.polls, self.outputs = {}, threading.Event(), waits, 0, outputs or {}

    def spawn(self, job_id, inputs):
        return "call-1"

    def poll(self, call_id, timeout=0.0):
        self.polls += 1
        if self.done.wait(timeout if self.waits else 0):
            return True, {"status": "completed", "outputs": self.outputs}
        return False, None

    def cancel(self, call_id):
        pass


def test_a_finished_job_is_answered_at_once_not_at_the_next_poll(modules):  # noqa: F811
    import comfy_web

    backend = _Backend()
    jobs = comfy_web.Jobs(backend, poll_interval=20.0)
    job_id = jobs.create({})
    threading.Timer(0.2, backend.done.set).start()
    began = time.monotonic()
    env = jobs.wait(job_id, 60, lambda e: e["status"] in comfy_web.TERMINAL)
    assert env["status"] == "completed"
    assert time.monotonic() - began < 10  # well before the 20 s poll interval


def test_a_backend_that_cannot_wait_is_still_polled_at_the_interval(modules):  # noqa: F811
    import comfy_web

    backend = _Backend(waits=False)
    jobs = comfy_web.Jobs(backend, poll_interval=0.2)
    env = jobs.wait(jobs.create({}), 1.0, lambda e: e["status"] in comfy_web.TERMINAL)
    assert env["status"] not in comfy_web.TERMINAL
    assert backend.polls <= 10  # about 1 s / 0.2 s, not a busy loop


def test_an_sse_stream_ends_when_the_job_does_not_at_the_next_poll(modules):  # noqa: F811
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    import comfy_web

    backend = _Backend()
    app = comfy_web.build_app(backend, {}, {"inputs": [], "outputs": []}, {"auth_mode": "none", "poll_interval": 20.0})
    job_id = comfy_web.Jobs(backend).create({})
    threading.Timer(0.5, backend.done.set).start()
    began = time.monotonic()
    with TestClient(app) as client, client.stream("GET", "/jobs/%s/events" % job_id) as resp:
        lines = [line for line in resp.iter_lines() if line.startswith("data: ")]
    assert '"status":"completed"' in lines[-1]
    assert time.monotonic() - began < 10  # well before the 20 s poll interval


def test_payloads_are_hashed_as_they_arrive_and_fingerprint_as_before(modules):
    wire, _ = modules
    import base64
    import hashlib

    import comfy_web

    payload = bytes(range(256)) * 4096
    body, ctype = wire.encode_multipart({"inputs": {"image": _image(payload), "label": {"type": "STRING", "encoding": "json", "data": "x"}}})
    stream = wire.MultipartStream(ctype, digests=True)
    for at in range(0, len(body), 10_000):
        stream.feed(body[at : at + 10_000])
    inputs = stream.finish()["inputs"]
    data = inputs["image"]["data"]
    assert stream.digests == {id(data): (data, hashlib.sha256(payload).hexdigest())}
    fast = comfy_web.fingerprint(inputs, stream.digests)
    assert fast == comfy_web.fingerprint(inputs)  # the same as hashing the bytes afterwards
    as_json = {"image": _image(base64.b64encode(payload).decode()), "label": inputs["label"]}
    assert fast == comfy_web.fingerprint(as_json)  # a JSON retry of a multipart request is the same request
    wrong = {id(data): (bytes(bytearray(data)), "0" * 64)}  # an entry for another object with the same id is ignored
    assert comfy_web.fingerprint(inputs, wrong) == fast
    assert not wire.MultipartStream(ctype).digests  # only computed when asked (an Idempotency-Key)


def test_a_key_stored_by_an_older_app_still_replays(modules):  # noqa: F811
    import comfy_web

    backend = _Backend()
    jobs = comfy_web.Jobs(backend)
    inputs = {"image": _image(b"\x93NUMPY" * 1000)}
    backend.store["idem:k1"] = {"job_id": "old-job", "fingerprint": comfy_web.fingerprint(inputs, inline=True)}
    assert jobs.create(inputs, "k1") == "old-job"
    with pytest.raises(comfy_web.WireError) as info:
        jobs.create({"image": _image(b"other")}, "k1")
    assert info.value.code == "IDEMPOTENCY_CONFLICT"


def test_a_large_output_by_ref_streams_whole_and_in_ranges(modules):  # noqa: F811
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    import comfy_web

    payload = bytes(range(256)) * (3 * MIB // 256) + b"end"
    backend = _Backend(outputs={"image": _image(payload)})
    backend.done.set()
    app = comfy_web.build_app(backend, {}, {"inputs": [], "outputs": []}, {"auth_mode": "none"})
    job_id = comfy_web.Jobs(backend).create({})
    with TestClient(app) as client:
        whole = client.get("/jobs/%s/outputs/image" % job_id)
        part = client.get("/jobs/%s/outputs/image" % job_id, headers={"Range": "bytes=100-2097251"})
    assert whole.status_code == 200 and whole.content == payload
    assert whole.headers["content-length"] == str(len(payload)) and whole.headers["accept-ranges"] == "bytes"
    assert part.status_code == 206 and part.content == payload[100:2097252]
    assert part.headers["content-range"] == "bytes 100-2097251/%d" % len(payload)
    assert part.headers["content-length"] == str(2097252 - 100)
