"""Finding a usable ``node`` (>= 20) and the bundled bridge script."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

from .errors import NodeNotFoundError

NODE_ENV = "COMFY_REMOTE_NODE"
BRIDGE_ENV = "COMFY_REMOTE_BRIDGE"
MIN_NODE_MAJOR = 20
PACK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_checked: dict[str, str] = {}
_lock = threading.Lock()


def bridge_script() -> str:
    """``<pack>/bridge/bridge.mjs`` (``COMFY_REMOTE_BRIDGE`` overrides it)."""

    override = os.environ.get(BRIDGE_ENV, "").strip()
    path = override or os.path.join(PACK_DIR, "bridge", "bridge.mjs")
    if not os.path.isfile(path):
        raise NodeNotFoundError(
            f"the comfy-remote bridge {path} is missing; build the pack "
            "(npx -y pnpm@10.34.8 --filter @comfy-remote/comfyui-extension pack) or reinstall it",
            code="BRIDGE_MISSING",
        )
    return path


def _version_of(node: str) -> str:
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise NodeNotFoundError(
            f"cannot run {node!r}: {exc}. Install Node.js >= {MIN_NODE_MAJOR} or set {NODE_ENV} to a node binary",
            cause=exc,
        ) from exc
    return (done.stdout or "").strip()


def find_node() -> str:
    """Absolute path of a node >= 20: ``COMFY_REMOTE_NODE``, else ``node`` on PATH. Checked once per path."""

    configured = os.environ.get(NODE_ENV, "").strip()
    node = configured or shutil.which("node")
    if not node:
        raise NodeNotFoundError(
            f"comfy-remote needs Node.js >= {MIN_NODE_MAJOR} but no 'node' is on PATH; install it "
            f"(https://nodejs.org) or set {NODE_ENV}=/path/to/node, then restart ComfyUI"
        )
    with _lock:
        if node in _checked:
            return _checked[node]
    version = _version_of(node)
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError:
        major = 0
    if major < MIN_NODE_MAJOR:
        raise NodeNotFoundError(
            f"{node} is Node.js {version or 'of unknown version'}; comfy-remote needs >= {MIN_NODE_MAJOR}. "
            f"Upgrade it or set {NODE_ENV} to a newer node binary",
            code="NODE_TOO_OLD",
        )
    with _lock:
        _checked[node] = node
    return node


__all__ = ["BRIDGE_ENV", "NODE_ENV", "PACK_DIR", "bridge_script", "find_node"]
