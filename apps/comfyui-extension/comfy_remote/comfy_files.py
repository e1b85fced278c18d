"""Values in files inside ComfyUI's own folders (wire format A, docs/protocol.md "Values in files").

A worker hands a large value to Remote Input as a reference to a file it uploaded
(``POST /upload/image``) or wrote into ``<input|temp|output>/comfy_remote/``:

    "data": {"file": {"filename": "cr-<job>-<n>.npy", "subfolder": "comfy_remote", "type": "temp"}}

``read_comfy_ref`` checks such a reference (subfolder ``comfy_remote``, a generated
name, a known type, the real path inside that folder), reads the bytes and deletes
the file. ``ComfyTempSink`` is what Remote Output writes large values with: files in
``<temp>/comfy_remote/`` whose reference the worker reads back through ``/view``.
``prune`` removes our files older than an hour (left behind by failed runs), spares after two minutes.
``shared_folder`` and ``check_probe`` let a worker on the same machine prove it sees
``<temp>/comfy_remote`` as ComfyUI does; it then writes and takes files there itself
instead of ``/upload/image`` and ``/view`` (no HTTP copy of the bytes). Such a worker hands a Remote
Output file it no longer needs back as a spare (``cr-spare-<hex>.bin``); the next Remote Output writes
over a spare instead of filling a new file (cached pages: on VMs that give freed memory back to their
host, a new 192 MiB file costs 60-500 ms, writing over a spare ~30 ms).
"""

from __future__ import annotations

import base64
import logging
import os
import re
import stat
import threading
import time
import uuid
from typing import Any

from .errors import CodecError
from .files import load_file, new_buffer

logger = logging.getLogger(__name__)

SUBFOLDER = "comfy_remote"
TYPES = ("input", "temp", "output")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
FILE_MIN = 64 * 1024  # binary payloads from this size travel as files (format A)
MIN_ENV = "COMFY_REMOTE_FILE_MIN"
PROBE_RE = re.compile(r"^cr-probe-[0-9a-f]{16,64}$")
PROBE_MAX_BYTES = 256
PRUNE_AGE = 3600.0
SPARE_PREFIX = "cr-spare-"
SPARE_AGE = 120.0
PRUNE_EVERY = 60.0
_prune_lock = threading.Lock()
_last_prune = {"at": 0.0}


def _folder_paths() -> Any:
    try:
        import folder_paths  # type: ignore[import-not-found]
    except Exception:
        return None
    return folder_paths


def folder_of(type_: str) -> str | None:
    """ComfyUI's folder for ``input`` / ``temp`` / ``output`` (as ``/view`` finds it), or None outside ComfyUI."""

    fp = _folder_paths()
    if fp is None or type_ not in TYPES:
        return None
    getter = {"input": "get_input_directory", "temp": "get_temp_directory", "output": "get_output_directory"}[type_]
    return getattr(fp, getter)()


def file_min() -> int:
    """Binary payloads of at least this many bytes go into files (``COMFY_REMOTE_FILE_MIN`` overrides; 0 = never)."""

    raw = os.environ.get(MIN_ENV, "").strip()
    if raw == "":
        return FILE_MIN
    try:
        value = int(raw)
    except ValueError:
        logger.warning("comfy-remote: %s=%r is not a number of bytes; using %d", MIN_ENV, raw, FILE_MIN)
        return FILE_MIN
    return value if value > 0 else -1


def is_comfy_ref(data: Any) -> bool:
    """True for ``{"file": {"filename", "subfolder", "type"}}`` (format A), not the bridge's ``{"file": path}``,
    and for ``{"files": [ref, ...]}`` (a value a worker uploaded in parts, under ComfyUI's upload size limit)."""

    if not isinstance(data, dict):
        return False
    return isinstance(data.get("file"), dict) or (isinstance(data.get("files"), list) and len(data["files"]) > 0)


def read_comfy_data(data: Any, where: str = "value") -> bytearray | memoryview:
    """Bytes of a format-A ``data``: one file, or the parts of ``files`` joined in order (each deleted after)."""

    if isinstance(data.get("file"), dict):
        return read_comfy_ref(data["file"], where)
    refs = data["files"]
    paths = [ref_path(ref, f"{where}.files[{i}]") for i, ref in enumerate(refs)]
    try:
        sizes = [os.stat(path).st_size for path in paths]
    except FileNotFoundError as exc:
        raise CodecError(
            f"{where}.data.files: a part does not exist in {SUBFOLDER}: upload every part before queueing the prompt",
            code="FILE_REF_MISSING",
            cause=exc,
        ) from exc
    buf = new_buffer(sum(sizes))
    view = memoryview(buf)
    at = 0
    for i, (ref, size) in enumerate(zip(refs, sizes)):
        part = read_comfy_ref(ref, f"{where}.files[{i}]")
        if len(part) != size:
            raise CodecError(f"{where}.data.files[{i}] changed while it was read", code="BAD_FILE_REF")
        view[at : at + size] = part
        at += size
    return buf


def ref_path(ref: Any, where: str) -> str:
    """The checked absolute path of a format-A reference (``ref`` is the inner ``{"filename", ...}`` dict)."""

    field = f"{where}.data.file"
    if not isinstance(ref, dict):
        raise CodecError(f"{field} must be an object {{filename, subfolder, type}}", code="BAD_FILE_REF")
    filename, subfolder, type_ = ref.get("filename"), ref.get("subfolder"), ref.get("type")
    if subfolder != SUBFOLDER:
        raise CodecError(
            f"{field}.subfolder must be {SUBFOLDER!r} (only files the worker put there are read), got {subfolder!r}",
            code="BAD_FILE_REF",
        )
    if not isinstance(filename, str) or not NAME_RE.match(filename) or ".." in filename:
        raise CodecError(
            f"{field}.filename {filename!r} is not a generated name (letters, digits, '.', '_', '-'; no '..')",
            code="BAD_FILE_REF",
        )
    if type_ not in TYPES:
        raise CodecError(f"{field}.type must be one of {', '.join(TYPES)}, got {type_!r}", code="BAD_FILE_REF")
    root = folder_of(type_)
    if root is None:
        raise CodecError(
            f"{field}: ComfyUI's folder_paths is not importable, so a ComfyUI file reference cannot be read here",
            code="BAD_FILE_REF",
        )
    base = os.path.realpath(os.path.join(root, SUBFOLDER))
    path = os.path.realpath(os.path.join(base, filename))
    if os.path.dirname(path) != base:
        raise CodecError(f"{field}: {filename!r} resolves outside {base}; refused", code="BAD_FILE_REF")
    return path


def read_comfy_ref(ref: Any, where: str = "value", *, delete: bool = True) -> bytearray | memoryview:
    """Bytes of a format-A file (a writable buffer, mapped where possible); the file is deleted after
    reading (the worker made it)."""

    path = ref_path(ref, where)
    try:
        with open(path, "rb") as fh:
            buf = load_file(fh)
    except FileNotFoundError as exc:
        raise CodecError(
            f"{where}.data.file {ref.get('filename')!r} does not exist in {ref.get('type')}/{SUBFOLDER}: upload it "
            "before queueing the prompt (files are read once, then deleted)",
            code="FILE_REF_MISSING",
            cause=exc,
        ) from exc
    except OSError as exc:
        raise CodecError(f"{where}.data.file {path!r} cannot be read: {exc}", code="BAD_FILE_REF", cause=exc) from exc
    if delete:
        try:
            os.unlink(path)
        except OSError as exc:
            logger.warning("comfy-remote: could not delete %s after reading it: %s", path, exc)
    return buf


class ComfyTempSink:
    """Writes binary payloads of at least ``min_size`` bytes to ``<temp>/comfy_remote/cr-out-<uuid>-<n>.<ext>``.

    ``put`` returns the format-A reference, or base64 text for smaller payloads (and when
    ComfyUI's temp folder is unknown, or ``min_size`` < 0).
    """

    def __init__(self, min_size: int | None = None, type_: str = "temp"):
        self.min_size = file_min() if min_size is None else min_size
        self.type = type_
        self.prefix = "cr-out-" + uuid.uuid4().hex
        self._count = 0
        self.written: list[str] = []

    def put(self, name: str, *parts: Any, ext: str = "bin") -> Any:
        size = sum(memoryview(p).nbytes for p in parts)
        root = folder_of(self.type) if self.min_size >= 0 and size >= self.min_size else None
        if root is None:
            return base64.b64encode(b"".join(bytes(p) for p in parts)).decode("ascii")
        folder = os.path.join(root, SUBFOLDER)
        os.makedirs(folder, exist_ok=True)
        self._count += 1
        safe_ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:10] or "bin"
        filename = f"{self.prefix}-{self._count}.{safe_ext}"
        path = os.path.join(folder, filename)
        fd = _claim_spare(folder, path)
        if fd is None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.written.append(path)
        with os.fdopen(fd, "wb") as fh:
            for part in parts:
                fh.write(part)
            fh.truncate(size)  # a spare may have been longer
        return {"file": {"filename": filename, "subfolder": SUBFOLDER, "type": self.type}}


    def discard(self) -> None:
        """Delete what this sink wrote (the value could not be encoded after all)."""

        for path in self.written:
            try:
                os.unlink(path)
            except OSError:
                pass
        self.written.clear()


def _claim_spare(folder: str, path: str) -> int | None:
    """A descriptor for writing ``path``, made from a spare a worker handed back (renamed: one taker), or
    None. Only a regular file of ours with no other name is written over; anything else loses its name."""

    if not hasattr(os, "geteuid") or not hasattr(os, "O_NOFOLLOW"):
        return None  # POSIX only
    try:
        spares = [entry.path for entry in os.scandir(folder) if entry.name.startswith(SPARE_PREFIX)]
    except OSError:
        return None
    for spare in spares:
        try:
            os.rename(spare, path)
        except OSError:
            continue  # another run took it, or it was pruned
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        except OSError:
            _unlink_quietly(path)
            continue
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and info.st_uid == os.geteuid():
            return fd
        os.close(fd)
        _unlink_quietly(path)
    return None


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def shared_folder() -> str | None:
    """The real path of ``<temp>/comfy_remote`` (created if missing), or None outside ComfyUI."""

    root = folder_of("temp")
    if root is None:
        return None
    folder = os.path.realpath(os.path.join(root, SUBFOLDER))
    os.makedirs(folder, exist_ok=True)
    return folder


def check_probe(filename: Any, token: Any) -> bool:
    """True when ``<temp>/comfy_remote/<filename>`` holds exactly ``token``: the worker that wrote it shares
    this filesystem (and ComfyUI can read what it writes). The probe file is deleted either way."""

    if not isinstance(filename, str) or not PROBE_RE.match(filename):
        raise CodecError("filename must be cr-probe-<16 to 64 hex digits>", code="BAD_FILE_REF")
    if not isinstance(token, str) or not 16 <= len(token) <= PROBE_MAX_BYTES:
        raise CodecError(f"token must be a string of 16 to {PROBE_MAX_BYTES} characters", code="BAD_FILE_REF")
    folder = shared_folder()
    if folder is None:
        return False
    path = os.path.join(folder, filename)
    try:
        with open(path, "rb") as fh:
            seen = fh.read(PROBE_MAX_BYTES + 1)
    except OSError:
        return False
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return seen == token.encode("utf-8")


def release(refs: Any) -> int:
    """Delete Remote Output files a worker has read (``POST /comfy-remote/files/release``).

    Only our output files are touched: ``temp/comfy_remote/cr-out-*``; anything else is a ``BAD_FILE_REF``.
    Files already gone count as released (the call is idempotent)."""

    if not isinstance(refs, list):
        raise CodecError("files must be a list of {filename, subfolder, type}", code="BAD_FILE_REF")
    paths = []
    for i, ref in enumerate(refs):
        path = ref_path(ref, f"files[{i}]")
        if ref.get("type") != "temp" or not str(ref.get("filename")).startswith("cr-out-"):
            raise CodecError(f"files[{i}]: only Remote Output files (temp, cr-out-*) can be released", code="BAD_FILE_REF")
        paths.append(path)
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    return len(paths)


def prune(max_age: float = PRUNE_AGE, *, force: bool = False, now: float | None = None) -> int:
    """Delete our files (``cr-*``) older than ``max_age`` s in every ``<type>/comfy_remote``; at most once a minute."""

    now = time.time() if now is None else now
    with _prune_lock:
        if not force and now - _last_prune["at"] < PRUNE_EVERY:
            return 0
        _last_prune["at"] = now
    removed = 0
    for type_ in TYPES:
        root = folder_of(type_)
        if root is None:
            continue
        folder = os.path.join(root, SUBFOLDER)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.name.startswith("cr-") and entry.is_file(follow_symlinks=False):
                    age = SPARE_AGE if entry.name.startswith(SPARE_PREFIX) else max_age
                    if now - entry.stat(follow_symlinks=False).st_mtime > min(age, max_age):
                        os.unlink(entry.path)
                        removed += 1
            except OSError as exc:
                logger.debug("comfy-remote: prune of %s failed: %s", entry.path, exc)
    if removed:
        logger.info("comfy-remote: removed %d stale file(s) from comfy_remote folders", removed)
    return removed


__all__ = [
    "FILE_MIN",
    "NAME_RE",
    "SUBFOLDER",
    "TYPES",
    "ComfyTempSink",
    "check_probe",
    "file_min",
    "folder_of",
    "is_comfy_ref",
    "prune",
    "read_comfy_ref",
    "release",
    "ref_path",
    "shared_folder",
]
