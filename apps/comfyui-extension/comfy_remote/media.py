"""VIDEO and file values <-> the ``file`` encoding (wire format B).

ComfyUI's VIDEO values are ``comfy_api`` ``VideoInput`` objects (both 0.3.6x and
current): ``VideoFromFile`` (a path or a BytesIO; 0.26 adds a trim window) and
``VideoFromComponents`` (frames + audio). A VIDEO travels as its container file:
the source file's bytes as they are when the object wraps an untrimmed file (bit
exact), else what ``save_to`` writes (mp4). A received VIDEO becomes
``VideoFromFile(BytesIO(bytes))`` (held in memory: the file it came from is deleted).
Other ``file`` values (type FILE, ...) become a ``FileValue``.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import os
import re
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_EXT_BY_MIME = {
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/x-matroska": "mkv",
    "video/quicktime": "mov",
    "video/x-msvideo": "avi",
    "image/gif": "gif",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/flac": "flac",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "model/gltf-binary": "glb",
    "application/json": "json",
    "text/plain": "txt",
}


@dataclass
class FileValue:
    """A file value (``file`` encoding) that is not a VIDEO: its bytes, media type and informational name."""

    data: bytes | bytearray | memoryview
    mime: str = ""  # empty: found from the bytes / name when encoded
    filename: str = "file.bin"

    def read(self) -> bytes:
        return bytes(self.data)

    def save(self, path: str) -> str:
        with open(path, "wb") as fh:
            fh.write(self.data)
        return path


def safe_filename(name: Any, default: str = "file.bin") -> str:
    """An informational file name reduced to ``[A-Za-z0-9._-]`` (never a path)."""

    base = os.path.basename(str(name or "")).strip()
    cleaned = _SAFE_NAME.sub("_", base).lstrip(".")[:120]
    return cleaned or default


def sniff_mime(head: bytes, filename: str = "") -> str:
    """Media type from the first bytes (containers ComfyUI writes), else from the name."""

    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:10] == b"qt" else "video/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if head[:4] == b"glTF":
        return "model/gltf-binary"
    guessed = mimetypes.guess_type(filename)[0] if filename else None
    return guessed or "application/octet-stream"


def ext_for(mime: str, filename: str = "") -> str:
    ext = _EXT_BY_MIME.get(mime)
    if ext:
        return ext
    tail = os.path.splitext(filename)[1].lstrip(".").lower()
    return tail if re.fullmatch(r"[a-z0-9]{1,8}", tail or "") else "bin"


def is_video(value: Any) -> bool:
    """A ComfyUI VIDEO object (``comfy_api`` ``VideoInput``, either era), found by its interface."""

    try:
        from comfy_api.input import VideoInput  # type: ignore[import-not-found]

        if isinstance(value, VideoInput):
            return True
    except Exception:
        pass
    return callable(getattr(value, "save_to", None)) and callable(getattr(value, "get_components", None))


def _untrimmed(video: Any) -> bool:
    window = getattr(video, "get_active_trim_window", None)
    if window is None:  # 0.3.6x VideoFromFile has no trim
        return True
    try:
        start, duration = window()
    except Exception:  # noqa: BLE001 - unknown: re-encode to be safe
        return False
    return not start and not duration


def video_source(video: Any) -> tuple[str | None, bytes | None, str]:
    """``(path, data, filename)``: the file a VIDEO wraps (``path`` or in-memory ``data``) when it can be sent as is,
    else the container ``save_to`` writes (``data``)."""

    source = None
    if callable(getattr(video, "get_stream_source", None)) and _untrimmed(video):
        try:
            source = video.get_stream_source()
        except Exception as exc:  # noqa: BLE001
            logger.debug("get_stream_source failed (%s); re-encoding the video", exc)
    if isinstance(source, str) and os.path.isfile(source) and type(video).__name__ == "VideoFromFile":
        return source, None, safe_filename(source, "video.mp4")
    if isinstance(source, io.BytesIO) and type(video).__name__ == "VideoFromFile":
        return None, source.getvalue(), "video.mp4"
    buffer = io.BytesIO()
    video.save_to(buffer)
    return None, buffer.getvalue(), "video.mp4"


def video_from_bytes(data: bytes | bytearray | memoryview) -> Any:
    """A ComfyUI VIDEO (``VideoFromFile`` over a BytesIO) when ``comfy_api`` is importable, else a ``FileValue``."""

    try:
        from comfy_api.input_impl import VideoFromFile  # type: ignore[import-not-found]
    except Exception:
        return None
    return VideoFromFile(io.BytesIO(bytes(data)))


__all__ = [
    "FileValue",
    "ext_for",
    "is_video",
    "safe_filename",
    "sniff_mime",
    "video_from_bytes",
    "video_source",
]
