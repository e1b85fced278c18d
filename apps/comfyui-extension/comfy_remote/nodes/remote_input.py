"""Remote Input (``ComfyRemoteInput``): where request data enters a workflow."""

from __future__ import annotations

import json
from typing import Any

from .. import comfy_files, registry
from ..codec import decode_value
from ..errors import CodecError, RemoteInputMissingError
from ..schemas import remote_input_schema
from .base import NodeBase, hidden_value, io, node_output

_MISSING = object()


def resolve_remote_input(node_id: Any, key: str, fallback: Any = None, payload: str | None = None) -> Any:
    """``payload`` input (JSON of one encoded value), else the registry's ``payload[key]``, else ``fallback``.

    The payload's binary data may name a file the worker put into ComfyUI's ``comfy_remote`` folders
    (format A): it is read, then deleted."""

    key = (key or "").strip() or "payload"
    if isinstance(payload, str) and payload.strip():
        comfy_files.prune()
        try:
            encoded = json.loads(payload)
        except ValueError as exc:
            raise CodecError(
                f"Remote Input {key!r}: the payload input is not JSON; it must hold one encoded value "
                '{"type", "encoding", "data"}',
                cause=exc,
            ) from exc
        return decode_value(encoded, where=f"payload of Remote Input {key!r}", comfy_refs=True)
    injected = registry.get_payload(node_id) if node_id is not None else None
    if isinstance(injected, dict):
        value = injected.get(key, _MISSING)
        if value is not _MISSING:
            return value
    if fallback is not None:
        return fallback
    raise RemoteInputMissingError(
        f"Remote Input {key!r} (node {node_id}) got no value: the request has no input named {key!r} and the "
        "node has no fallback. Send that input, rename the key, or connect a Fallback Value"
    )


class RemoteInputNode(NodeBase):
    """Remote Input node. ``inject_payload`` / ``pop_payload`` are the original registry helpers."""

    inject_payload = staticmethod(registry.inject_payload)
    pop_payload = staticmethod(registry.pop_payload)

    @classmethod
    def define_schema(cls) -> Any:
        return remote_input_schema(io)

    @classmethod
    def fingerprint_inputs(cls, key: str = "payload", fallback: Any = None, payload: str | None = None, **_: Any) -> Any:
        # a registry injection does not change the graph: re-run when the registry changed.
        # ComfyUI passes linked inputs as None here (and undeclared linked inputs too: **_)
        return (payload or "", registry.version())

    @classmethod
    def execute(cls, key: str = "payload", fallback: Any = None, payload: str | None = None) -> Any:
        value = resolve_remote_input(hidden_value(cls, "unique_id"), key, fallback, payload)
        return node_output(value)


__all__ = ["RemoteInputNode", "resolve_remote_input"]
