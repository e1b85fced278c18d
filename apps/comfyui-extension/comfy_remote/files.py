"""The private work dir of one bridge call: large values cross as files, not base64.

``WorkDir`` creates a temp dir readable only by this user and removes it on
close. ``FileSink.put`` writes one value's bytes and returns the ``{"file": path}``
reference of the bridge contract. ``read_file_ref`` reads a reference back and
refuses paths outside the work dir.
"""

from __future__ import annotations

import mmap
import os
import re
import shutil
import tempfile

from typing import Any

from . import staging
from .errors import CodecError

INLINE_LIMIT = 4096
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class FileSink:
    """Writes binary values into ``root``; values under ``inline_limit`` bytes stay inline (base64)."""

    def __init__(self, root: str, inline_limit: int = INLINE_LIMIT):
        self.root = root
        self.inline_limit = inline_limit
        self._count = 0
        #: files written, for ``WorkDir`` to recycle after a successful call
        self.written: list[str] = []

    def put(self, name: str, *parts: bytes | memoryview, ext: str = "bin") -> object:
        """Store the concatenation of ``parts`` (written one after the other, not joined in memory)."""

        size = sum(memoryview(p).nbytes for p in parts)
        if size < self.inline_limit:
            import base64

            return base64.b64encode(b"".join(bytes(p) for p in parts)).decode("ascii")
        self._count += 1
        safe = _SAFE.sub("_", name)[:80] or "value"
        safe_ext = _SAFE.sub("", ext)[:10] or "bin"
        path = os.path.join(self.root, f"in-{self._count}-{safe}.{safe_ext}")
        # write over an earlier call's input file when one is kept (its pages are cached: no new memory)
        reused = staging.reuse(path)
        fd = os.open(path, os.O_WRONLY if reused else os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            for part in parts:
                fh.write(part)
            if reused:
                fh.truncate(size)
        self.written.append(path)
        return {"file": path}


class WorkDir:
    """A private temp dir (mode 0700) removed by ``close()`` / the context manager. After a call that
    succeeded (no exception), its input files are kept for the next call to write over (``staging``)."""

    def __init__(self, prefix: str = "comfy-remote-"):
        self.path = os.path.realpath(tempfile.mkdtemp(prefix=prefix))
        self.sink = FileSink(self.path)

    def close(self, recycle_inputs: bool = False) -> None:
        if recycle_inputs:
            for path in self.sink.written:
                staging.recycle(path)
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> WorkDir:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        # a failed or cancelled call may still have its file open in the bridge: never written over
        self.close(recycle_inputs=exc_type is None)


def new_buffer(size: int) -> bytearray | memoryview:
    """A writable, zero-filled buffer of ``size`` bytes whose pages are touched only when written.

    ``bytearray(n)`` writes every byte first (~40 ms for 48 MiB, then the data is written again); on
    POSIX this is a private anonymous map, freed when the last view of it goes away.
    """

    if size > 0 and os.name == "posix":
        return memoryview(mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE))
    return bytearray(size)


def load_file(fh: Any) -> bytearray | memoryview:
    """The whole of an open file as a WRITABLE buffer, without copying it where possible.

    On POSIX a private memory map: pages come from the page cache as they are touched and writes stay
    private, so a 48 MiB tensor is usable at once instead of after a ~50 ms copy, and the file may be
    deleted right after (the map keeps it). Elsewhere, or for an empty file, it is read into a bytearray.
    Only for files nobody truncates later (ours: work dir, spool, comfy_remote folders).
    """

    size = os.fstat(fh.fileno()).st_size
    if size > 0 and os.name == "posix":
        try:
            return memoryview(mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_COPY))
        except (OSError, ValueError):
            pass
    buf = new_buffer(size)
    got = fh.readinto(buf)
    return buf if got == size else buf[:got]


def read_file_ref(path: str, root: str | None, where: str = "value") -> bytearray | memoryview:
    """Bytes of a ``{"file": path}`` reference (a writable buffer); the path must be inside ``root``."""

    if root is None:
        raise CodecError(f"{where}.data is a file reference, which is only accepted from the bridge's work dir")
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        raise CodecError(f"{where}.data file {path!r} is outside the work dir {real_root!r}; refused")
    try:
        with open(real, "rb") as fh:
            return load_file(fh)
    except OSError as exc:
        raise CodecError(f"{where}.data file {path!r} cannot be read: {exc}", cause=exc) from exc


__all__ = ["INLINE_LIMIT", "FileSink", "WorkDir", "load_file", "new_buffer", "read_file_ref"]
