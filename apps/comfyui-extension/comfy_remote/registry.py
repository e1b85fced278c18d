"""In-process registries of the Remote Input / Remote Output nodes (the original helpers).

- ``inject_payload(node_id, payload)``: the ``{key: value}`` map a Remote Input reads.
- ``pop_payload(node_id)``: returns and forgets it.
- ``register_output(node_id, key, value)``: merges ``key: value`` into the node's bucket.
- ``pop_output(node_id)``: returns and forgets the whole bucket (None when nothing is stored).

Node ids are compared as strings (ComfyUI ids are strings, callers often pass ints).
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_payloads: dict[str, dict[str, Any]] = {}
_outputs: dict[str, dict[str, Any]] = {}
_version = 0


def _id(node_id: object) -> str:
    return str(node_id)


def inject_payload(node_id: object, payload: dict[str, Any]) -> None:
    if not isinstance(payload, dict):
        raise TypeError(f"payload for node {node_id} must be a dict of key -> value, got {type(payload).__name__}")
    global _version
    with _lock:
        _payloads[_id(node_id)] = payload
        _version += 1


def version() -> int:
    """Changes on every injection (Remote Input uses it so ComfyUI's cache does not hide new payloads)."""

    return _version


def get_payload(node_id: object) -> dict[str, Any] | None:
    with _lock:
        return _payloads.get(_id(node_id))


def pop_payload(node_id: object) -> dict[str, Any] | None:
    with _lock:
        return _payloads.pop(_id(node_id), None)


def register_output(node_id: object, key: str, value: Any) -> None:
    with _lock:
        _outputs.setdefault(_id(node_id), {})[key] = value


def pop_output(node_id: object) -> dict[str, Any] | None:
    with _lock:
        return _outputs.pop(_id(node_id), None)


def clear() -> None:
    """Forget everything (tests)."""

    with _lock:
        _payloads.clear()
        _outputs.clear()


__all__ = ["clear", "get_payload", "inject_payload", "pop_output", "pop_payload", "register_output", "version"]
