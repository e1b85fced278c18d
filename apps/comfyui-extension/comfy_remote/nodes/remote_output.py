"""Remote Output (``ComfyRemoteOutput``): a value returned to the remote caller under its key."""

from __future__ import annotations

import logging
from typing import Any

from .. import comfy_files, registry
from ..codec import encode_value, pickle_allowed
from ..errors import CodecError
from ..schemas import remote_output_schema
from .base import NodeBase, hidden_value, io, node_output

logger = logging.getLogger(__name__)


def remote_output_ui(key: str, value: Any) -> dict[str, Any]:
    """The UI entry workers read from history: ``{"remote_output": [{"name": key, "value": <encoded>}]}``.

    Binary payloads of 64 KiB and more are written to ``<temp>/comfy_remote/`` and the value names the file
    (format A; workers read it with ``GET /view``), so they never travel as base64 in history or on the ws."""

    comfy_files.prune()
    sink = comfy_files.ComfyTempSink()
    try:
        encoded = encode_value(value, name=key, allow_pickle=pickle_allowed(), sink=sink)
        entry: dict[str, Any] = {"name": key, "value": encoded}
    except CodecError as exc:
        logger.warning("comfy-remote: Remote Output %r cannot be encoded: %s", key, exc)
        sink.discard()
        entry = {"name": key, "value": None, "error": {"code": exc.code, "message": str(exc.args[0])}}
    return {"remote_output": [entry]}


class RemoteOutputNode(NodeBase):
    """Remote Output node. ``pop_output(node_id)`` is the original registry helper."""

    pop_output = staticmethod(registry.pop_output)
    register_output = staticmethod(registry.register_output)

    @classmethod
    def define_schema(cls) -> Any:
        return remote_output_schema(io)

    @classmethod
    def fingerprint_inputs(cls, value: Any = None, key: str = "result", **_: Any) -> Any:
        # always run: the in-process registry must receive the value on every execution
        return float("nan")

    @classmethod
    def execute(cls, value: Any = None, key: str = "result") -> Any:
        key = (key or "").strip() or "result"
        node_id = hidden_value(cls, "unique_id")
        if node_id is not None:
            registry.register_output(node_id, key, value)
        return node_output(value, ui=remote_output_ui(key, value))


__all__ = ["RemoteOutputNode", "remote_output_ui"]
