"""App Mode inputs/outputs of the prompt (stdlib only, no network).

The scaffolder converted a UI workflow whose ``extra.linearData`` marks widgets as inputs and output
nodes as outputs (ComfyUI App Mode); it kept each mark in the API node's ``_meta.comfy_remote_app``
(ComfyUI ignores ``_meta``). Here: read the marks, check request values, put them into the widgets,
and list the output nodes' files from a /history entry. The runner does the uploads and /view reads.
"""

import base64
import copy
import json
import re
import struct
import zlib

APP_META = "comfy_remote_app"
UPLOAD_SUBFOLDER = "comfy_remote"
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_BINARY = ("png", "npy", "file")
_MIME = {
    "png": ("IMAGE", "image/png"), "jpg": ("IMAGE", "image/jpeg"), "jpeg": ("IMAGE", "image/jpeg"),
    "webp": ("IMAGE", "image/webp"), "gif": ("IMAGE", "image/gif"), "mp4": ("VIDEO", "video/mp4"),
    "webm": ("VIDEO", "video/webm"), "mov": ("VIDEO", "video/quicktime"), "mkv": ("VIDEO", "video/x-matroska"),
    "flac": ("AUDIO", "audio/flac"), "wav": ("AUDIO", "audio/wav"), "mp3": ("AUDIO", "audio/mpeg"),
    "ogg": ("AUDIO", "audio/ogg"), "opus": ("AUDIO", "audio/opus"), "glb": ("FILE", "model/gltf-binary"),
}
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif", "video/mp4": "mp4",
        "video/webm": "webm", "video/quicktime": "mov", "audio/flac": "flac", "audio/wav": "wav",
        "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg"}


def _order(node_id):
    text = str(node_id)
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in text.split(":"))


def _meta(node):
    meta = (node.get("_meta") or {}).get(APP_META) if isinstance(node, dict) else None
    return meta if isinstance(meta, dict) else {}


def app_inputs(prompt):
    """[{name, order, type, upload, targets: [(node_id, input)]}] in the order the editor shows them."""
    found = {}
    for node_id in sorted(prompt, key=_order):
        for mark in _meta(prompt[node_id]).get("inputs") or []:
            if not (isinstance(mark, dict) and isinstance(mark.get("name"), str) and isinstance(mark.get("input"), str)):
                continue
            entry = found.get(mark["name"])
            if entry is None:
                entry = found[mark["name"]] = {
                    "name": mark["name"], "order": mark.get("order") or 0, "type": mark.get("type") or "*",
                    "upload": mark.get("upload"), "targets": [],
                }
            entry["targets"].append((str(node_id), mark["input"]))
    return sorted(found.values(), key=lambda e: e["order"])


def app_outputs(prompt):
    """[{name, node_id, order}] of the App Mode output nodes, in the editor's order."""
    found = []
    for node_id in sorted(prompt, key=_order):
        out = _meta(prompt[node_id]).get("output")
        if isinstance(out, dict) and isinstance(out.get("name"), str):
            found.append({"name": out["name"], "node_id": str(node_id), "order": out.get("order") or 0})
    return sorted(found, key=lambda e: e["order"])


def needs_upload(entry, value):
    """True when an upload widget's value is a file to send (not the name of a file ComfyUI has)."""
    return bool(entry.get("upload")) and not (value.get("encoding") == "json" and isinstance(value.get("data"), str))


def check_value(entry, value, field):
    """Error text when ``value`` cannot go into the App Mode input ``entry``, else None."""
    enc, data = value.get("encoding"), value.get("data")
    if entry.get("upload"):
        if not needs_upload(entry, value):
            return None
        if enc not in _BINARY or not isinstance(data, (str, bytes, bytearray, memoryview)):
            return ("%s: an %s upload widget takes %s bytes (png/npy/file encoding) or a json string naming a file ComfyUI has; got encoding %r"
                    % (field, entry["upload"], entry["type"], enc))
        if enc != "file" and entry["upload"] != "image":
            return "%s: an %s upload widget takes a 'file' value; got encoding %r" % (field, entry["upload"], enc)
        return None
    if enc not in ("json", "identity") or isinstance(data, (dict, list)):
        return '%s: expects a %s widget value as {"encoding": "json", "data": <value>}' % (field, entry["type"])
    number = isinstance(data, (int, float)) and not isinstance(data, bool)
    ok, what = {
        "INT": (isinstance(data, int) and not isinstance(data, bool), "an integer"),
        "FLOAT": (number, "a number"),
        "BOOLEAN": (isinstance(data, bool), "true or false"),
        "STRING": (isinstance(data, str), "a string"),
        "COMBO": (isinstance(data, str) or number, "one of its choices"),
    }.get(entry["type"], (data is not None, "a value"))
    return None if ok else "%s: App Mode input %r expects %s, got %s" % (field, entry["name"], what, json.dumps(data))


def inject(prompt, values):
    """Copy of ``prompt`` with each App Mode value ({name: literal}) in every widget its input marks."""
    out = copy.deepcopy(prompt)
    entries = {e["name"]: e for e in app_inputs(prompt)}
    for name, literal in values.items():
        for node_id, input_name in entries[name]["targets"]:
            out[node_id].setdefault("inputs", {})[input_name] = literal
    return out


def upload_file(entry, value, prefix, index):
    """(filename, bytes, mime) of an upload widget's value; npy IMAGEs become PNG (needs numpy)."""
    data = value.get("data")
    raw = base64.b64decode(data) if isinstance(data, str) else bytes(data)
    enc = value.get("encoding")
    if enc == "npy":
        raw = _npy_to_png(raw)
        mime = "image/png"
    elif enc == "png":
        if isinstance(value.get("batch"), int) and value["batch"] > 1:
            raise ValueError("an image widget loads one image, got a batch of %d; send one image" % value["batch"])
        mime = "image/png"
    else:
        mime = value.get("mime") if isinstance(value.get("mime"), str) else "application/octet-stream"
    safe = _SAFE.sub("", prefix)[:64] or "job"
    return "%s-%d.%s" % (safe, index, _EXT.get(mime, "bin")), raw, mime


def _npy_to_png(raw):
    import io

    import numpy as np

    array = np.load(io.BytesIO(raw), allow_pickle=False)
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ValueError("an image widget loads one image, got a batch of %d; send one image" % array.shape[0])
        array = array[0]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError("an IMAGE must be [B,H,W,C] with C = 1, 3 or 4, got %s" % (list(array.shape),))
    pixels = np.clip(np.rint(array.astype("float32") * 255.0), 0, 255).astype("uint8")
    return _png(pixels.shape[1], pixels.shape[0], pixels.shape[2], pixels.tobytes())


def _png(width, height, channels, raw):
    """An 8-bit PNG (grey, RGB or RGBA) of row-major pixel bytes; stdlib only."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    color = {1: 0, 3: 2, 4: 6}[channels]
    stride = width * channels
    rows = b"".join(b"\x00" + raw[y * stride:(y + 1) * stride] for y in range(height))
    head = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")


def _file_value(item, animated):
    ref = {"file": {"filename": item["filename"], "subfolder": item.get("subfolder") or "", "type": item.get("type") or "output"}}
    ext = item["filename"].rsplit(".", 1)[-1].lower() if "." in item["filename"] else ""
    kind, mime = _MIME.get(ext, ("FILE", "application/octet-stream"))
    if ext == "png" and not animated:
        return {"type": "IMAGE", "encoding": "png", "data": ref}
    return {"type": "VIDEO" if animated and kind == "IMAGE" else kind, "encoding": "file", "mime": mime,
            "filename": item["filename"], "data": ref}


def collect(prompt, outputs):
    """({name: value with data {"file": {...}}}, [missing names]) from a /history entry's ``outputs``."""
    found, missing = {}, []
    for out in app_outputs(prompt):
        ui = outputs.get(out["node_id"]) or {}
        animated = any(a is True for a in (ui.get("animated") or [])) if isinstance(ui, dict) else False
        items = []
        for key, listed in (ui.items() if isinstance(ui, dict) else []):
            if isinstance(listed, list):
                items += [_file_value(i, animated) for i in listed if isinstance(i, dict) and isinstance(i.get("filename"), str) and i["filename"]]
        if not items:
            missing.append(out["name"])
        else:
            found[out["name"]] = items[0] if len(items) == 1 else {"type": items[0]["type"], "encoding": "list", "data": items}
    return found, missing


def file_refs(value):
    """Every ComfyUI file reference {"filename", "subfolder", "type"} inside a value (with its holder dict)."""
    if isinstance(value, list):
        return [r for v in value for r in file_refs(v)]
    if not isinstance(value, dict):
        return []
    data = value.get("data")
    if isinstance(data, dict) and isinstance(data.get("file"), dict):
        return [(value, data["file"])]
    return [r for v in value.values() for r in file_refs(v)]
