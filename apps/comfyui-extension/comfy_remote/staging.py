"""Input files of finished calls, kept a short while for the next call to write over.

Where guest memory is backed lazily (the lab's VMs), writing a new 48 MiB file costs 135-160 ms of
page faults, and writing over one whose pages are cached 5-8 ms (docs/LEARNINGS.md). ``recycle`` keeps
a successful call's input file in a private dir (mode 0700; at most MAX_FILES and MAX_BYTES, each at
most KEEP_SECONDS unused, all removed at exit); ``reuse`` moves one to a new path for the sink to
write over. Only files with no other name (nlink 1) are kept.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import stat
import tempfile
import threading
import time

MAX_FILES = 2
MAX_BYTES = 2 * 1024**3
KEEP_SECONDS = 30.0

_lock = threading.Lock()
_names = itertools.count(1)
_kept: list[tuple[str, int, float]] = []  # (path, size, kept at), oldest first
_folder: list[str] = []


def _dir() -> str:
    if not _folder:
        _folder.append(os.path.realpath(tempfile.mkdtemp(prefix="comfy-remote-stage-")))
        atexit.register(shutil.rmtree, _folder[0], True)
    return _folder[0]


def _drop(index: int) -> None:
    path = _kept.pop(index)[0]
    try:
        os.unlink(path)
    except OSError:
        pass


def _expire(now: float) -> None:
    while _kept and now - _kept[0][2] > KEEP_SECONDS:
        _drop(0)


def recycle(path: str) -> bool:
    """Keep ``path`` (moved away) for a later ``reuse``; False when it is not kept (the caller deletes it)."""

    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > MAX_BYTES:
        return False
    with _lock:
        _expire(time.monotonic())
        while _kept and (len(_kept) >= MAX_FILES or sum(k[1] for k in _kept) + info.st_size > MAX_BYTES):
            _drop(0)
        target = os.path.join(_dir(), f"s{next(_names)}")
        try:
            os.rename(path, target)
        except OSError:
            return False
        _kept.append((target, info.st_size, time.monotonic()))
    return True


def reuse(path: str) -> bool:
    """Move the most recently kept file to ``path`` (a new name); False when none is kept."""

    with _lock:
        _expire(time.monotonic())
        if not _kept:
            return False
        kept = _kept.pop()[0]
    try:
        os.rename(kept, path)
        return True
    except OSError:
        try:
            os.unlink(kept)
        except OSError:
            pass
        return False


def kept_count() -> int:
    with _lock:
        return len(_kept)


__all__ = ["KEEP_SECONDS", "MAX_BYTES", "MAX_FILES", "kept_count", "recycle", "reuse"]
