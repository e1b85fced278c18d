"""Python values <-> encoded values (wire protocol v1), pure (no ComfyUI imports).

An encoded value is a dict ``{"type", "encoding", "data", ...}``:

- ``json`` / ``identity``: ``data`` is the plain JSON value.
- ``npy`` / ``png`` / ``file``: ``data`` is base64 text, raw ``bytes``, ``{"file": path}``
  (bridge contract: the bytes are in that file, which must lie inside the work dir), or
  ``{"file": {"filename", "subfolder": "comfy_remote", "type"}}`` (a file in ComfyUI's own
  folders, format A: read once and deleted; only where ``comfy_refs=True``, i.e. Remote Input).
- ``file``: any file (``mime``, informational ``filename``): VIDEO objects travel as their
  container file (see ``media``); AUDIO stays ``object`` {waveform: npy, sample_rate: json}.
- ``object`` / ``list``: ``data`` is a dict / list of encoded values.
- ``base64+pickle``: decoded only after opting in (``allow_pickle=True`` or
  ``COMFY_REMOTE_ALLOW_PICKLE=1``); never produced unless the caller opts in too.

Decoded tensors are torch tensors when torch is importable, else NumPy arrays.
IMAGE comes back ``[B,H,W,C]`` and MASK ``[B,H,W]``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
from typing import Any, Callable

import numpy as np

from .errors import CodecError, PickleRefusedError
from .audio import audio_from_bytes
from .comfy_files import is_comfy_ref, read_comfy_data
from .files import FileSink, read_file_ref
from .limits import DecodeBudget
from .media import FileValue, ext_for, is_video, safe_filename, sniff_mime, video_from_bytes, video_source
from .npy import BFLOAT16, decode_npy, npy_parts
from .png import decode_png, png_size
from .tensors import is_array, numpy_to_tensor, tensor_to_numpy

logger = logging.getLogger(__name__)

ENCODINGS = ("json", "npy", "png", "file", "object", "list", "base64+pickle", "identity")
PICKLE_ENV = "COMFY_REMOTE_ALLOW_PICKLE"


def pickle_allowed(option: bool | None = None) -> bool:
    """The user's opt-in: the node option, else ``COMFY_REMOTE_ALLOW_PICKLE=1``."""

    if option:
        return True
    return os.environ.get(PICKLE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _is_jsonable(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_jsonable(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_is_jsonable(v) for v in value)
    return False


def infer_type(value: Any) -> str:
    """Best guess of the ComfyUI type of a Python value (``*`` when unknown)."""

    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "INT"
    if isinstance(value, float):
        return "FLOAT"
    if isinstance(value, str):
        return "STRING"
    if is_array(value):
        nd = len(value.shape)
        if nd == 4 and int(value.shape[-1]) in (1, 3, 4):
            return "IMAGE"
        if nd == 3:
            return "MASK"
        return "*"
    if isinstance(value, dict):
        if "samples" in value and is_array(value["samples"]):
            return "LATENT"
        if "waveform" in value and "sample_rate" in value:
            return "AUDIO"
    if isinstance(value, (list, tuple)) and value and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and is_array(p[0]) and isinstance(p[1], dict) for p in value
    ):
        return "CONDITIONING"
    return "*"


def _binary(encoding: str, type_: str, parts: tuple, sink: Any, name: str, extra: dict, ext: str | None = None) -> dict:
    if sink is not None:
        data: Any = sink.put(name, *parts, ext=ext or encoding)
    else:
        data = base64.b64encode(b"".join(bytes(p) for p in parts)).decode("ascii")
    return {"type": type_, "encoding": encoding, "data": data, **extra}


def encode_value(
    value: Any,
    type_hint: str | None = None,
    *,
    sink: FileSink | None = None,
    name: str = "value",
    allow_pickle: bool = False,
) -> dict:
    """Encode a Python value. Arrays become ``npy`` (into ``sink`` files when given, else base64)."""

    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()  # NumPy scalars travel as JSON numbers / booleans
    type_ = type_hint if type_hint and type_hint != "*" else infer_type(value)
    if is_array(value):
        arr, dtype_name = tensor_to_numpy(value)
        extra = {"dtype": BFLOAT16} if dtype_name == BFLOAT16 else {}
        header, body = npy_parts(arr, dtype_name)
        view = memoryview(body.reshape(-1)).cast("B") if body.size else b""
        return _binary("npy", type_, (header, view), sink, name, extra)
    if isinstance(value, FileValue) or is_video(value):
        return _encode_file(value, type_, sink, name)
    if _is_jsonable(value):
        return {"type": type_, "encoding": "json", "data": list(value) if isinstance(value, tuple) else value}
    if isinstance(value, dict):
        data = {
            str(k): encode_value(v, sink=sink, name=f"{name}.{k}", allow_pickle=allow_pickle) for k, v in value.items()
        }
        return {"type": type_, "encoding": "object", "data": data}
    if isinstance(value, (list, tuple)):
        items = [encode_value(v, sink=sink, name=f"{name}.{i}", allow_pickle=allow_pickle) for i, v in enumerate(value)]
        return {"type": type_, "encoding": "list", "data": items}
    if allow_pickle:
        logger.warning("comfy-remote: sending %s as base64+pickle because allow_pickle is on", type(value).__name__)
        payload = pickle.dumps(value)
        return {"type": type_, "encoding": "base64+pickle", "data": base64.b64encode(payload).decode("ascii")}
    raise CodecError(
        f"cannot encode a {type(value).__name__} value ({name}) without pickle; send tensors, dicts, lists "
        "and JSON values, or turn on allow_pickle for an endpoint that accepts base64+pickle"
    )


def _mapped(path: str) -> Any:
    """A read-only view of a file's bytes (mmap: written on without a copy into memory)."""

    import mmap

    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return b""
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def _encode_file(value: Any, type_: str, sink: Any, name: str) -> dict:
    """A VIDEO object or a ``FileValue`` as a ``file`` value (``mime``, ``filename``)."""

    if isinstance(value, FileValue):
        data: Any = value.data
        filename = safe_filename(value.filename)
        mime = value.mime or sniff_mime(bytes(memoryview(data)[:64]), filename)
        type_ = type_ if type_ != "*" else "FILE"
    else:
        path, raw, filename = video_source(value)
        data = _mapped(path) if path is not None else raw
        mime = sniff_mime(bytes(memoryview(data)[:64]), filename)
        type_ = "VIDEO" if type_ in ("*", "VIDEO") else type_
    try:
        ext = ext_for(mime, filename)
        if os.path.splitext(filename)[1].lstrip(".").lower() != ext:
            filename = os.path.splitext(filename)[0] + "." + ext
        return _binary("file", type_, (data,), sink, name, {"mime": mime, "filename": filename}, ext)
    finally:
        if hasattr(data, "close") and not isinstance(data, (bytes, bytearray, memoryview)):
            data.close()


def normalize_encoded(value: Any, where: str = "value", *, lenient: bool = False) -> dict:
    """Check an encoded value. ``lenient=True`` applies the original's result reading:
    ``comfy_type`` for ``type``, ``value`` = identity data, missing encoding = base64+pickle."""

    if not isinstance(value, dict):
        raise CodecError(
            f"{where} must be an encoded value object with encoding and data, got {type(value).__name__}",
            code="BAD_REQUEST",
        )
    ev = dict(value)
    if "type" not in ev and "comfy_type" in ev:
        ev["type"] = ev["comfy_type"]
    if lenient:
        if "data" not in ev and "value" in ev:
            ev["data"] = ev["value"]
            ev.setdefault("encoding", "identity")
        if "data" in ev:
            ev.setdefault("encoding", "base64+pickle")
    if "encoding" not in ev:
        raise CodecError(f"{where}.encoding is missing; send {{type, encoding, data}}", code="BAD_REQUEST")
    if "data" not in ev:
        raise CodecError(f"{where}.data is missing; send {{type, encoding, data}}", code="BAD_REQUEST")
    ev.setdefault("type", "*")
    if ev["encoding"] not in ENCODINGS:
        raise CodecError(
            f"{where}.encoding {ev['encoding']!r} is unknown; use one of {', '.join(ENCODINGS)}",
            code="UNKNOWN_ENCODING",
        )
    return ev


def _b64decode(text: str, where: str) -> bytes:
    """Strict base64 (standard or URL-safe, whitespace ignored): ``validate=False`` silently dropped
    every character outside the alphabet, so ``"!!!!"`` became 0 bytes."""

    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        pass
    clean = "".join(text.split()).replace("-", "+").replace("_", "/")
    clean += "=" * (-len(clean.rstrip("=")) % 4) if "=" not in clean else ""
    try:
        return base64.b64decode(clean, validate=True)
    except ValueError as exc:
        raise CodecError(f"{where}.data is not valid base64; send the bytes base64-encoded", code="BASE64_INVALID", cause=exc) from exc


def _bytes_of(data: Any, where: str, file_root: str | None, comfy_refs: bool = False) -> bytes | bytearray | memoryview:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    if is_comfy_ref(data):
        if not comfy_refs:
            raise CodecError(
                f"{where}.data is a ComfyUI file reference, which only a Remote Input reads; send the bytes",
                code="BAD_FILE_REF",
            )
        return read_comfy_data(data, where)
    if isinstance(data, str):
        return _b64decode(data, where)
    if isinstance(data, dict) and isinstance(data.get("file"), str):
        return read_file_ref(data["file"], file_root, where)
    raise CodecError(
        f"{where}.data must be base64 text, bytes or a file reference {{'file': ...}}, got {type(data).__name__}"
    )


def shape_for_type(value: Any, type_: str) -> Any:
    """IMAGE to ``[B,H,W,C]`` (a 3-D image gets a batch dimension), MASK to ``[B,H,W]``."""

    if not is_array(value):
        return value
    nd = len(value.shape)
    if type_ == "IMAGE" and nd == 3:
        return value[None, ...]
    if type_ == "MASK":
        if nd == 2:
            return value[None, ...]
        if nd == 4 and int(value.shape[-1]) == 1:
            return value[..., 0]
    return value


def decode_value(
    value: Any,
    *,
    allow_pickle: bool = False,
    file_root: str | None = None,
    where: str = "value",
    to_tensor: Callable[[np.ndarray, str | None], Any] = numpy_to_tensor,
    lenient: bool = False,
    budget: DecodeBudget | None = None,
    comfy_refs: bool = False,
) -> Any:
    """Decode an encoded value into Python values (tensors, dicts, lists, JSON values, VIDEO objects, files).

    ``lenient`` applies the original's reading of a top-level result (see ``normalize_encoded``);
    ``budget`` bounds the decoded PNG pixels of the whole value (``COMFY_REMOTE_MAX_DECODED_BYTES``);
    ``comfy_refs`` lets ``data`` name a file in ComfyUI's ``comfy_remote`` folders (Remote Input only)."""

    budget = budget if budget is not None else DecodeBudget()
    ev = normalize_encoded(value, where, lenient=lenient)
    enc, type_, data = ev["encoding"], str(ev.get("type") or "*"), ev["data"]
    if enc in ("json", "identity"):
        return data
    if enc == "npy":
        hint = BFLOAT16 if ev.get("dtype") == BFLOAT16 else None
        npy = decode_npy(_bytes_of(data, where, file_root, comfy_refs), hint)
        return shape_for_type(to_tensor(npy.array, npy.dtype), type_)
    if enc == "png":
        raw = _bytes_of(data, where, file_root, comfy_refs)
        width, height, channels = png_size(raw)  # pixel cap, before anything is inflated
        budget.take(width * height * channels * 4, where)  # the float32 pixels it becomes
        pixels = decode_png(raw)
        height, width, channels = pixels.shape
        batch = ev.get("batch")
        b = batch if isinstance(batch, int) and batch > 0 and height % batch == 0 else 1
        floats = pixels.astype(np.float32)
        np.divide(floats, np.float32(255.0), out=floats)  # in place: no third copy
        del pixels
        floats = floats.reshape(b, height // b, width, channels)
        return to_tensor(floats[..., 0] if type_ == "MASK" else floats, None)
    if enc == "file":
        return _decode_file(_bytes_of(data, where, file_root, comfy_refs), ev, type_, where)
    if enc == "object":
        if not isinstance(data, dict):
            raise CodecError(f"{where}.data must be an object of encoded values for encoding 'object'")
        kw = {"allow_pickle": allow_pickle, "file_root": file_root, "to_tensor": to_tensor, "budget": budget,
              "comfy_refs": comfy_refs}
        return {k: decode_value(v, where=f"{where}.data.{k}", **kw) for k, v in data.items()}
    if enc == "list":
        if not isinstance(data, list):
            raise CodecError(f"{where}.data must be a list of encoded values for encoding 'list'")
        kw = {"allow_pickle": allow_pickle, "file_root": file_root, "to_tensor": to_tensor, "budget": budget,
              "comfy_refs": comfy_refs}
        return [decode_value(v, where=f"{where}.data[{i}]", **kw) for i, v in enumerate(data)]
    # base64+pickle
    if not pickle_allowed(allow_pickle):
        raise PickleRefusedError(
            f"{where} is base64+pickle, which can run code when loaded; refused. If you trust the endpoint, "
            f"turn on the node's allow_pickle option or set {PICKLE_ENV}=1 in ComfyUI's environment"
        )
    logger.warning("comfy-remote: unpickling %s (base64+pickle) because the user opted in", where)
    return pickle.loads(_bytes_of(data, where, file_root))  # noqa: S301 - explicit user opt-in


def _decode_file(raw: bytes | bytearray | memoryview, ev: dict, type_: str, where: str = "value") -> Any:
    """A ``file`` value: VIDEO -> ComfyUI VIDEO object (when comfy_api is importable), AUDIO -> ComfyUI AUDIO
    dict (decoded like LoadAudio does), else a ``FileValue``."""

    filename = safe_filename(ev.get("filename"))
    mime = ev.get("mime") if isinstance(ev.get("mime"), str) and ev.get("mime") else sniff_mime(bytes(raw[:64]), filename)
    if type_ == "VIDEO" or (type_ == "*" and mime.startswith("video/")):
        video = video_from_bytes(raw)
        if video is not None:
            return video
    if type_ == "AUDIO":
        return audio_from_bytes(raw, where)
    if type_ == "*" and mime.startswith("audio/"):
        try:
            return audio_from_bytes(raw, where)
        except CodecError:
            pass  # untyped: an audio/* file this process cannot decode stays a file
    return FileValue(data=raw, mime=mime, filename=filename)


def encoded_json(value: Any, **kwargs: Any) -> str:
    """JSON text of one encoded value (what a Remote Input's ``payload`` input holds)."""

    return json.dumps(encode_value(value, **kwargs))


__all__ = [
    "ENCODINGS",
    "PICKLE_ENV",
    "decode_value",
    "encode_value",
    "encoded_json",
    "infer_type",
    "normalize_encoded",
    "pickle_allowed",
    "shape_for_type",
]
