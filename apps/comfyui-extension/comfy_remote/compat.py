"""Access to ComfyUI's V3 ``comfy_api.latest`` surface, when it exists.

``load_io()`` returns ``comfy_api.latest.io`` seen through a read-only view that
also finds the private ``_io`` names (0.3.6x keeps ``AutogrowDynamic`` there), or
None when ComfyUI is not importable (tests, tools).
"""

from __future__ import annotations

from typing import Any


class IoView:
    """Attribute lookup on the public ``io`` module first, then on the private ``_io`` module."""

    def __init__(self, public: Any, private: Any = None):
        self._public = public
        self._private = private

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._public, name)
        except AttributeError:
            if self._private is not None:
                return getattr(self._private, name)
            raise

    def has(self, name: str) -> bool:
        try:
            getattr(self, name)
        except AttributeError:
            return False
        return True


def load_io() -> IoView | None:
    try:
        from comfy_api.latest import io  # type: ignore[import-not-found]
    except Exception:
        return None
    try:
        from comfy_api.latest import _io as private  # type: ignore[import-not-found]
    except Exception:
        private = None
    return IoView(io, private)


def load_extension_base() -> Any:
    """``comfy_api.latest.ComfyExtension`` or None."""

    try:
        from comfy_api.latest import ComfyExtension  # type: ignore[import-not-found]
    except Exception:
        return None
    return ComfyExtension


__all__ = ["IoView", "load_extension_base", "load_io"]
