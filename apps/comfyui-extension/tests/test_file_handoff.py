"""Format A (values in files inside ComfyUI's folders) and the ``file`` encoding (VIDEO, FILE) in the nodes."""

from __future__ import annotations

import base64
import io
import json
import os
import time

import comfy_media
import comfy_v3
import numpy as np
import pytest

from comfy_remote import comfy_files, registry
from comfy_remote.codec import decode_value, encode_value
from comfy_remote.errors import CodecError
from comfy_remote.media import FileValue
from comfy_remote.npy import encode_npy
from conftest import as_np

BIG = np.arange(160 * 160 * 3, dtype=np.float32).reshape(1, 160, 160, 3)  # 300 KiB


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    registry.clear()
    monkeypatch.delenv(comfy_files.MIN_ENV, raising=False)
    yield
    registry.clear()


def _run(nodes, cls_name, node_id, **kwargs):
    cls = getattr(nodes, cls_name)
    clone = cls.PREPARE_CLASS_CLONE({comfy_v3.Hidden.unique_id: node_id}) if hasattr(cls, "PREPARE_CLASS_CLONE") else cls
    return clone.execute(**kwargs)


def _put(rec, type_, name, data):
    folder = os.path.join(rec.folder_paths.get_directory_by_type(type_), "comfy_remote")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def _ref(name, type_="temp", subfolder="comfy_remote"):
    return {"file": {"filename": name, "subfolder": subfolder, "type": type_}}


@pytest.mark.parametrize("type_", ["temp", "input", "output"])
def test_remote_input_reads_a_file_ref_and_deletes_it(comfy, type_):
    _flavour, rec, nodes = comfy
    path = _put(rec, type_, "cr-job1-1.npy", encode_npy(BIG))
    payload = json.dumps({"type": "IMAGE", "encoding": "npy", "data": _ref("cr-job1-1.npy", type_)})
    out = _run(nodes, "RemoteInputNode", "3", key="image", payload=payload)
    assert as_np(out[0]).tobytes() == BIG.tobytes()
    assert not os.path.exists(path)  # we created it: read once, then deleted


def test_file_refs_inside_object_and_list_values(comfy):
    _flavour, rec, nodes = comfy
    wave = np.linspace(-1, 1, 2 * 40000, dtype=np.float32).reshape(1, 2, 40000)
    _put(rec, "temp", "cr-j-1.npy", encode_npy(wave))
    _put(rec, "temp", "cr-j-2.npy", encode_npy(BIG))
    audio = {
        "type": "AUDIO",
        "encoding": "object",
        "data": {
            "waveform": {"type": "*", "encoding": "npy", "data": _ref("cr-j-1.npy")},
            "sample_rate": {"type": "INT", "encoding": "json", "data": 44100},
        },
    }
    out = _run(nodes, "RemoteInputNode", "3", key="audio", payload=json.dumps(audio))[0]
    assert out["sample_rate"] == 44100 and as_np(out["waveform"]).tobytes() == wave.tobytes()
    items = {"type": "*", "encoding": "list", "data": [{"type": "IMAGE", "encoding": "npy", "data": _ref("cr-j-2.npy")}]}
    (image,) = _run(nodes, "RemoteInputNode", "3", key="x", payload=json.dumps(items))[0]
    assert as_np(image).tobytes() == BIG.tobytes()


@pytest.mark.parametrize(
    "ref, message",
    [
        (_ref("cr-x.npy", subfolder="other"), "subfolder must be 'comfy_remote'"),
        (_ref("../secret.npy"), "not a generated name"),
        (_ref("/etc/passwd"), "not a generated name"),
        (_ref("a..b.npy"), "not a generated name"),
        (_ref(".hidden"), "not a generated name"),
        (_ref("cr-x.npy", type_="models"), "type must be one of input, temp, output"),
        ({"file": {"filename": 5, "subfolder": "comfy_remote", "type": "temp"}}, "not a generated name"),
    ],
)
def test_unsafe_file_refs_are_refused(comfy, ref, message):
    _flavour, _rec, nodes = comfy
    payload = json.dumps({"type": "IMAGE", "encoding": "npy", "data": ref})
    with pytest.raises(CodecError, match=message) as info:
        _run(nodes, "RemoteInputNode", "3", key="image", payload=payload)
    assert info.value.code == "BAD_FILE_REF" and "payload of Remote Input 'image'.data.file" in str(info.value)


def test_a_symlink_out_of_the_folder_is_refused(comfy, tmp_path):
    _flavour, rec, nodes = comfy
    outside = tmp_path / "outside.npy"
    outside.write_bytes(encode_npy(BIG))
    folder = os.path.join(rec.folder_paths.get_temp_directory(), "comfy_remote")
    os.makedirs(folder, exist_ok=True)
    os.symlink(outside, os.path.join(folder, "cr-link.npy"))
    payload = json.dumps({"type": "IMAGE", "encoding": "npy", "data": _ref("cr-link.npy")})
    with pytest.raises(CodecError, match="resolves outside"):
        _run(nodes, "RemoteInputNode", "3", key="image", payload=payload)
    assert outside.exists()


def test_a_missing_file_names_the_fix(comfy):
    _flavour, _rec, nodes = comfy
    payload = json.dumps({"type": "IMAGE", "encoding": "npy", "data": _ref("cr-gone.npy")})
    with pytest.raises(CodecError, match="does not exist in temp/comfy_remote") as info:
        _run(nodes, "RemoteInputNode", "3", key="image", payload=payload)
    assert info.value.code == "FILE_REF_MISSING"


def test_file_refs_are_only_read_by_remote_input(comfy):
    _flavour, rec, _nodes = comfy
    path = _put(rec, "temp", "cr-j-1.npy", encode_npy(BIG))
    with pytest.raises(CodecError, match="only a Remote Input reads"):
        decode_value({"type": "IMAGE", "encoding": "npy", "data": _ref("cr-j-1.npy")})
    assert os.path.exists(path)


def test_remote_output_writes_large_values_to_temp_and_small_ones_inline(comfy):
    _flavour, rec, nodes = comfy
    out = _run(nodes, "RemoteOutputNode", "9", value=BIG, key="image")
    value = out.ui["remote_output"][0]["value"]
    ref = value["data"]["file"]
    assert value["encoding"] == "npy" and ref["subfolder"] == "comfy_remote" and ref["type"] == "temp"
    assert comfy_files.NAME_RE.match(ref["filename"]) and ref["filename"].startswith("cr-out-")
    assert ref["filename"].endswith(".npy")
    path = os.path.join(rec.folder_paths.get_temp_directory(), "comfy_remote", ref["filename"])
    with open(path, "rb") as fh:
        assert fh.read() == encode_npy(BIG)  # the .npy file, byte for byte
    assert len(json.dumps(out.ui)) < 400  # history and the ws message stay small
    small = np.ones((1, 8, 8, 3), np.float32)
    value = _run(nodes, "RemoteOutputNode", "9", value=small, key="small").ui["remote_output"][0]["value"]
    assert isinstance(value["data"], str) and base64.b64decode(value["data"]) == encode_npy(small)


def test_remote_output_threshold_env(comfy, monkeypatch):
    _flavour, _rec, nodes = comfy
    monkeypatch.setenv(comfy_files.MIN_ENV, "0")  # never write files
    value = _run(nodes, "RemoteOutputNode", "9", value=BIG, key="image").ui["remote_output"][0]["value"]
    assert isinstance(value["data"], str)
    monkeypatch.setenv(comfy_files.MIN_ENV, "100")
    small = np.ones((1, 8, 8, 3), np.float32)
    value = _run(nodes, "RemoteOutputNode", "9", value=small, key="image").ui["remote_output"][0]["value"]
    assert "file" in value["data"]


def test_output_then_input_round_trip_through_the_folder(comfy):
    """What a worker sharing the filesystem does: move Remote Output's file into place for a Remote Input."""
    _flavour, rec, nodes = comfy
    value = _run(nodes, "RemoteOutputNode", "9", value=BIG, key="image").ui["remote_output"][0]["value"]
    out = _run(nodes, "RemoteInputNode", "3", key="image", payload=json.dumps(value))
    assert as_np(out[0]).tobytes() == BIG.tobytes()


def test_prune_removes_our_old_files_only(comfy):
    _flavour, rec, _nodes = comfy
    old = _put(rec, "input", "cr-old.npy", b"x")
    fresh = _put(rec, "temp", "cr-new.npy", b"x")
    foreign = _put(rec, "output", "user-file.png", b"x")
    past = time.time() - 2 * 3600
    os.utime(old, (past, past))
    os.utime(foreign, (past, past))
    assert comfy_files.prune(force=True) == 1
    assert not os.path.exists(old) and os.path.exists(fresh) and os.path.exists(foreign)


def test_remote_output_writes_over_a_spare_a_worker_handed_back(comfy):
    """A worker on this machine gives a released Remote Output file back as cr-spare-*: the next output
    takes it (same inode: its cached pages), cut to the new size; nothing else in the folder is touched."""
    _flavour, rec, nodes = comfy
    spare = _put(rec, "temp", "cr-spare-0123abcd.bin", b"\xff" * (BIG.nbytes + 5000))
    inode = os.stat(spare).st_ino
    value = _run(nodes, "RemoteOutputNode", "9", value=BIG, key="image").ui["remote_output"][0]["value"]
    path = os.path.join(rec.folder_paths.get_temp_directory(), "comfy_remote", value["data"]["file"]["filename"])
    assert not os.path.exists(spare) and os.stat(path).st_ino == inode
    assert open(path, "rb").read() == encode_npy(BIG)  # exact size: the spare's tail is cut
    again = _run(nodes, "RemoteOutputNode", "9", value=BIG, key="image").ui["remote_output"][0]["value"]
    other = os.path.join(rec.folder_paths.get_temp_directory(), "comfy_remote", again["data"]["file"]["filename"])
    assert os.stat(other).st_ino != inode  # no spare left: a new file


def test_a_spare_that_is_a_link_or_another_name_is_never_written_through(comfy, tmp_path):
    _flavour, rec, nodes = comfy
    victim = tmp_path / "victim.bin"
    victim.write_bytes(b"keep me")
    folder = os.path.join(rec.folder_paths.get_temp_directory(), "comfy_remote")
    os.makedirs(folder, exist_ok=True)
    os.symlink(victim, os.path.join(folder, "cr-spare-link.bin"))
    os.link(victim, os.path.join(folder, "cr-spare-hard.bin"))
    value = _run(nodes, "RemoteOutputNode", "9", value=BIG, key="image").ui["remote_output"][0]["value"]
    path = os.path.join(folder, value["data"]["file"]["filename"])
    assert open(path, "rb").read() == encode_npy(BIG) and os.stat(path).st_nlink == 1
    assert victim.read_bytes() == b"keep me" and os.stat(victim).st_nlink == 1
    assert not [n for n in os.listdir(folder) if n.startswith("cr-spare-")]


def test_prune_drops_spares_after_two_minutes(comfy):
    _flavour, rec, _nodes = comfy
    old = _put(rec, "temp", "cr-spare-old.bin", b"x")
    fresh = _put(rec, "temp", "cr-spare-new.bin", b"x")
    past = time.time() - comfy_files.SPARE_AGE - 5
    os.utime(old, (past, past))
    assert comfy_files.prune(force=True) == 1
    assert not os.path.exists(old) and os.path.exists(fresh)


def test_no_folder_paths_means_inline(no_comfy):
    sink = comfy_files.ComfyTempSink()
    assert isinstance(sink.put("x", b"a" * 100_000, ext="npy"), str)


# ---- VIDEO and files (format B) -------------------------------------------------------------

MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 400  # ~100 KiB


def _impl():
    import comfy_api.input_impl as impl  # the stand-in of the installed flavour

    return impl


def test_video_from_a_file_travels_as_the_file_itself(comfy, tmp_path):
    _flavour, rec, nodes = comfy
    src = tmp_path / "clip.mp4"
    src.write_bytes(MP4)
    video = _impl().VideoFromFile(str(src))
    value = _run(nodes, "RemoteOutputNode", "9", value=video, key="video").ui["remote_output"][0]["value"]
    assert value["type"] == "VIDEO" and value["encoding"] == "file" and value["mime"] == "video/mp4"
    assert value["filename"] == "clip.mp4" and value["data"]["file"]["filename"].endswith(".mp4")
    path = os.path.join(rec.folder_paths.get_temp_directory(), "comfy_remote", value["data"]["file"]["filename"])
    assert open(path, "rb").read() == MP4  # bit exact: not remuxed by save_to
    back = _run(nodes, "RemoteInputNode", "3", key="video", payload=json.dumps(value))[0]
    assert type(back).__name__ == "VideoFromFile" and isinstance(back.get_stream_source(), io.BytesIO)
    assert back.get_stream_source().getvalue() == MP4


def test_video_in_memory_and_trimmed_and_from_components(comfy):
    flavour, _rec, _nodes = comfy
    impl = _impl()
    value = encode_value(impl.VideoFromFile(io.BytesIO(MP4)))
    assert base64.b64decode(value["data"]) == MP4 and value["type"] == "VIDEO"
    if flavour == "0.26":  # a trim window: the source is not the video any more, save_to writes it
        trimmed = encode_value(impl.VideoFromFile(io.BytesIO(MP4), start_time=1.0))
        assert base64.b64decode(trimmed["data"]) == MP4 + comfy_media.REMUX_MARK
    frames = np.zeros((2, 4, 4, 3), np.float32)
    built = encode_value(impl.VideoFromComponents(type("C", (), {"images": frames, "audio": None, "frame_rate": 8})()))
    assert built["mime"] == "video/mp4" and base64.b64decode(built["data"]).endswith(frames.tobytes())


def test_file_values_and_video_without_comfy_api(no_comfy):
    value = encode_value(FileValue(data=b"glTF" + b"\x00" * 200, filename="../../mesh.glb"))
    assert value["type"] == "FILE" and value["mime"] == "model/gltf-binary" and value["filename"] == "mesh.glb"
    back = decode_value(value)
    assert isinstance(back, FileValue) and back.read() == b"glTF" + b"\x00" * 200
    video = decode_value({"type": "VIDEO", "encoding": "file", "mime": "video/mp4", "data": base64.b64encode(MP4).decode()})
    assert isinstance(video, FileValue) and video.mime == "video/mp4" and bytes(video.data) == MP4


def test_old_json_base64_payloads_keep_working(comfy):
    _flavour, _rec, nodes = comfy
    payload = json.dumps({"type": "IMAGE", "encoding": "npy", "data": base64.b64encode(encode_npy(BIG)).decode()})
    assert as_np(_run(nodes, "RemoteInputNode", "3", key="image", payload=payload)[0]).tobytes() == BIG.tobytes()


def test_a_value_uploaded_in_parts_is_joined_in_order_and_every_part_deleted(comfy):
    # workers upload large values in parts under ComfyUI's --max-upload-size (100 MiB by default)
    _flavour, rec, nodes = comfy
    raw = encode_npy(BIG)
    third = len(raw) // 3 + 1
    parts = [raw[i : i + third] for i in range(0, len(raw), third)]
    names = [f"cr-job2-1-p{i}.npy" for i in range(len(parts))]
    paths = [_put(rec, "temp", name, part) for name, part in zip(names, parts)]
    data = {"files": [_ref(name)["file"] for name in names]}
    payload = json.dumps({"type": "IMAGE", "encoding": "npy", "data": data})
    out = _run(nodes, "RemoteInputNode", "3", key="image", payload=payload)
    assert as_np(out[0]).tobytes() == BIG.tobytes()
    assert not any(os.path.exists(p) for p in paths)


def test_a_missing_part_names_the_fix(comfy):
    _flavour, rec, nodes = comfy
    _put(rec, "temp", "cr-job3-1-p0.npy", b"\x93NUMPY")
    data = {"files": [_ref("cr-job3-1-p0.npy")["file"], _ref("cr-job3-1-p1.npy")["file"]]}
    payload = json.dumps({"type": "IMAGE", "encoding": "npy", "data": data})
    with pytest.raises(CodecError) as info:
        _run(nodes, "RemoteInputNode", "3", key="image", payload=payload)
    assert info.value.code == "FILE_REF_MISSING"
