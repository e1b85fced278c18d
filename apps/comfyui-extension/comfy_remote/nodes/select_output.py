"""Remote Output Select (``ComfyRemoteSelectOutput``): one named value out of Remote API's ``outputs``."""

from __future__ import annotations

from typing import Any

from ..errors import BadInputError
from ..schemas import select_output_schema
from .base import NodeBase, io, node_output


def select_output(outputs: Any, name: str) -> Any:
    if not isinstance(outputs, dict):
        raise BadInputError("outputs must be the 'outputs' of a Remote API node (a dict of values by name)")
    key = (name or "").strip()
    if key not in outputs:
        known = ", ".join(sorted(outputs)) or "(none)"
        raise BadInputError(f"the remote call returned no output named {key!r}; it returned: {known}")
    return outputs[key]


class SelectOutputNode(NodeBase):
    @classmethod
    def define_schema(cls) -> Any:
        return select_output_schema(io)

    @classmethod
    def execute(cls, outputs: Any = None, name: str = "result") -> Any:
        return node_output(select_output(outputs, name))


__all__ = ["SelectOutputNode", "select_output"]
