"""The base class of the pack's nodes: ``io.ComfyNode`` inside ComfyUI, a plain class elsewhere.

Outside ComfyUI (tests, tools) the node classes still exist, with the original
registry helpers (``RemoteInputNode.inject_payload`` ...) and their ``execute``
returning a ``PlainOutput`` instead of ``io.NodeOutput``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..compat import load_io

io = load_io()


@dataclass
class PlainOutput:
    """What ``execute`` returns when ComfyUI's ``io.NodeOutput`` is not available."""

    args: tuple = ()
    ui: dict[str, Any] | None = field(default=None)

    @property
    def result(self) -> tuple:
        return self.args

    def __getitem__(self, index: int) -> Any:
        return self.args[index]


class _PlainNode:
    hidden: Any = None


NodeBase: Any = io.ComfyNode if io is not None else _PlainNode


def node_output(*args: Any, ui: dict[str, Any] | None = None) -> Any:
    if io is not None:
        return io.NodeOutput(*args, ui=ui)
    return PlainOutput(args=args, ui=ui)


def hidden_value(cls: Any, name: str) -> Any:
    """A hidden input (``unique_id``, ``prompt``) of the executing node, or None."""

    holder = getattr(cls, "hidden", None)
    return getattr(holder, name, None) if holder is not None else None


__all__ = ["NodeBase", "PlainOutput", "hidden_value", "io", "node_output"]
