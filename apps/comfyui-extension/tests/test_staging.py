"""A successful call's input files are written over by the next call (comfy_remote.staging)."""

from __future__ import annotations

import os

import pytest

from comfy_remote import staging
from comfy_remote.files import WorkDir


def drain() -> None:
    with staging._lock:
        while staging._kept:
            staging._drop(0)


@pytest.fixture(autouse=True)
def empty_pool():
    drain()  # what other tests' calls kept
    yield
    drain()


def test_the_next_call_writes_over_the_last_calls_input_file_cut_to_size():
    with WorkDir() as work:
        ref = work.sink.put("image", b"a" * 100_000, ext="npy")
        inode = os.stat(ref["file"]).st_ino
    assert staging.kept_count() == 1
    with WorkDir() as work:
        ref = work.sink.put("image", b"b" * 10_000, ext="npy")
        assert os.stat(ref["file"]).st_ino == inode
        with open(ref["file"], "rb") as fh:
            assert fh.read() == b"b" * 10_000
    assert staging.kept_count() == 1


def test_a_failed_call_keeps_nothing():
    with pytest.raises(RuntimeError):
        with WorkDir() as work:
            work.sink.put("image", b"a" * 100_000, ext="npy")
            raise RuntimeError("the call failed")
    assert staging.kept_count() == 0


def test_files_with_another_name_are_not_kept(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    os.link(path, tmp_path / "g")
    assert staging.recycle(str(path)) is False and path.exists()


def test_at_most_max_files_and_not_after_keep_seconds(tmp_path, monkeypatch):
    for i in range(staging.MAX_FILES + 1):
        (tmp_path / str(i)).write_bytes(b"x" * 10)
        assert staging.recycle(str(tmp_path / str(i)))
    assert staging.kept_count() == staging.MAX_FILES
    monkeypatch.setattr(staging, "KEEP_SECONDS", -1.0)
    assert staging.reuse(str(tmp_path / "new")) is False
    assert staging.kept_count() == 0
