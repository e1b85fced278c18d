"""A stand-in for Pillow where it is not installed (ComfyUI always has it): ``PIL.Image.open`` reads a
PNG's or JPEG's size from its header, enough for the nodes' preview path to be exercised in tests."""

from __future__ import annotations

import struct
import sys
import types


class _Picture:
    def __init__(self, data: bytes):
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            self.format = "PNG"
            self.size = struct.unpack(">II", data[16:24])
        elif data[:2] == b"\xff\xd8":
            self.format, self.size = "JPEG", (0, 0)
        else:
            raise OSError("cannot identify image file")

    def load(self):
        return None

    def convert(self, mode):
        return self


def install() -> bool:
    """Installs the stand-in unless Pillow is importable; True when it installed it."""

    try:
        import PIL.Image  # noqa: F401
        return False
    except ImportError:
        pass
    pil = types.ModuleType("PIL")
    image = types.ModuleType("PIL.Image")
    image.open = lambda fp: _Picture(fp.read())
    pil.Image = image
    sys.modules["PIL"], sys.modules["PIL.Image"] = pil, image
    return True


def uninstall() -> None:
    for name in ("PIL", "PIL.Image"):
        if isinstance(sys.modules.get(name), types.ModuleType) and getattr(sys.modules[name], "__file__", None) is None:
            sys.modules.pop(name, None)
