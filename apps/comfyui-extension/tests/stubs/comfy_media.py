"""Stand-ins for ComfyUI's ``folder_paths`` and VIDEO types, written from ComfyUI's source.

Sources read (yzkee/ComfyUI): ``folder_paths.py`` and ``comfy_api/input/__init__.py``,
``comfy_api/input_impl/__init__.py``, ``comfy_api/latest/_input/video_types.py``,
``comfy_api/latest/_input_impl/video_types.py`` at 637221995f74 (0.3.64) and
f6c162ddcfbd (0.26.0).

- ``folder_paths``: ``<base>/input|output|temp``, the getters/setters,
  ``get_directory_by_type`` (None for an unknown type) and ``annotated_filepath``,
  identical in both versions.
- ``comfy_api.input.VideoInput``: the ABC (``get_components``/``save_to`` abstract,
  ``get_stream_source`` defaulting to ``save_to`` into a BytesIO) - both versions.
- ``comfy_api.input_impl.VideoFromFile``: 0.3.64 takes ``(file)``; 0.26 takes
  ``(file, *, start_time=0, duration=0)`` and has ``get_active_trim_window``. The real
  ``save_to`` remuxes through PyAV, so its bytes differ from the source file: this stand-in
  marks what it writes (``REMUX_MARK``) so tests can tell a copy of the source from a re-write.
- ``VideoFromComponents(components)``: ``save_to`` encodes the frames (here: a fake mp4 that
  starts with an ``ftyp`` box followed by the frames' bytes).
"""

from __future__ import annotations

import io
import os
import sys
import types
from abc import ABC, abstractmethod
from typing import Any

REMUX_MARK = b"\x00stub-remuxed-by-save_to"
MODULES = ("folder_paths", "comfy_api.input", "comfy_api.input_impl")


def folder_paths_module(base: str) -> types.ModuleType:
    fp = types.ModuleType("folder_paths")
    fp.base_path = base
    fp.output_directory = os.path.join(base, "output")
    fp.temp_directory = os.path.join(base, "temp")
    fp.input_directory = os.path.join(base, "input")
    for d in (fp.output_directory, fp.temp_directory, fp.input_directory):
        os.makedirs(d, exist_ok=True)

    def set_output_directory(output_dir: str) -> None:
        fp.output_directory = output_dir

    def set_temp_directory(temp_dir: str) -> None:
        fp.temp_directory = temp_dir

    def set_input_directory(input_dir: str) -> None:
        fp.input_directory = input_dir

    def get_directory_by_type(type_name: str) -> str | None:
        if type_name == "output":
            return fp.output_directory
        if type_name == "temp":
            return fp.temp_directory
        if type_name == "input":
            return fp.input_directory
        return None

    def annotated_filepath(name: str) -> tuple[str, str | None]:
        if name.endswith("[output]"):
            return name[:-9], fp.output_directory
        if name.endswith("[input]"):
            return name[:-8], fp.input_directory
        if name.endswith("[temp]"):
            return name[:-7], fp.temp_directory
        return name, None

    fp.set_output_directory, fp.set_temp_directory, fp.set_input_directory = (
        set_output_directory,
        set_temp_directory,
        set_input_directory,
    )
    fp.get_output_directory = lambda: fp.output_directory
    fp.get_temp_directory = lambda: fp.temp_directory
    fp.get_input_directory = lambda: fp.input_directory
    fp.get_directory_by_type = get_directory_by_type
    fp.annotated_filepath = annotated_filepath
    return fp


class VideoInput(ABC):
    @abstractmethod
    def get_components(self) -> Any: ...

    @abstractmethod
    def save_to(self, path: Any, format: Any = "auto", codec: Any = "auto", metadata: Any = None) -> None: ...

    def get_stream_source(self) -> Any:
        buffer = io.BytesIO()
        self.save_to(buffer)
        buffer.seek(0)
        return buffer


def _write(path: Any, data: bytes) -> None:
    if isinstance(path, io.BytesIO):
        path.write(data)
    else:
        with open(path, "wb") as fh:
            fh.write(data)


def _video_from_file_class(flavour: str) -> type:
    class VideoFromFile(VideoInput):
        if flavour == "0.26":

            def __init__(self, file: Any, *, start_time: float = 0, duration: float = 0):
                self.__file = file
                self.__start_time = start_time
                self.__duration = duration

            def get_active_trim_window(self) -> tuple[float, float]:
                return float(self.__start_time), float(self.__duration)

        else:

            def __init__(self, file: Any):
                self.__file = file

        def get_stream_source(self) -> Any:
            if isinstance(self.__file, io.BytesIO):
                self.__file.seek(0)
            return self.__file

        def _source_bytes(self) -> bytes:
            if isinstance(self.__file, io.BytesIO):
                return self.__file.getvalue()
            with open(self.__file, "rb") as fh:
                return fh.read()

        def get_components(self) -> Any:
            return types.SimpleNamespace(images=None, audio=None, frame_rate=24)

        def save_to(self, path: Any, format: Any = "auto", codec: Any = "auto", metadata: Any = None) -> None:
            _write(path, self._source_bytes() + REMUX_MARK)  # a remux: same streams, new container bytes

    return VideoFromFile


class VideoFromComponents(VideoInput):
    def __init__(self, components: Any, bit_depth: int = 8):
        self.__components = components

    def get_components(self) -> Any:
        return self.__components

    def save_to(self, path: Any, format: Any = "auto", codec: Any = "auto", metadata: Any = None) -> None:
        import numpy as np

        frames = np.asarray(self.__components.images, dtype=np.float32)
        _write(path, b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + frames.tobytes())


def install(flavour: str, base: str) -> types.ModuleType:
    fp = folder_paths_module(base)
    inp = types.ModuleType("comfy_api.input")
    inp.VideoInput = VideoInput
    impl = types.ModuleType("comfy_api.input_impl")
    impl.VideoFromFile = _video_from_file_class(flavour)
    impl.VideoFromComponents = VideoFromComponents
    for name, mod in zip(MODULES, (fp, inp, impl)):
        sys.modules[name] = mod
    return fp


def uninstall() -> None:
    for name in MODULES:
        sys.modules.pop(name, None)
