"""Registration with ComfyUI: ``comfy_entrypoint`` (V3) or, on builds without
``ComfyExtension``, ``NODE_CLASS_MAPPINGS``.

Server routes are added when PromptServer exists: at import of the pack (ComfyUI creates the server
before it loads custom nodes), and again from ``get_node_list()`` (every version calls it) and
``on_load()`` (only ComfyUI >= 0.14 calls it; 0.3.48 ... 0.13.x never do); ``register_routes`` adds
them once per server, whichever path runs first."""

from __future__ import annotations

import logging
from typing import Any

from .comfy_runtime import prompt_server
from .compat import load_extension_base
from .nodes import NODE_CLASSES
from .nodes.base import io
from .routes import register_routes
from .schemas import API_ID, DEPLOY_ID, INPUT_ID, OUTPUT_ID, SELECT_ID

logger = logging.getLogger(__name__)

NODE_IDS = {
    INPUT_ID: "RemoteInputNode",
    OUTPUT_ID: "RemoteOutputNode",
    API_ID: "RemoteApiNode",
    DEPLOY_ID: "ModalDeploymentNode",
    SELECT_ID: "SelectOutputNode",
}
DISPLAY_NAMES = {
    INPUT_ID: "Remote Input",
    OUTPUT_ID: "Remote Output",
    API_ID: "Remote API",
    DEPLOY_ID: "Modal Deployment",
    SELECT_ID: "Remote Output Select",
}


def node_class_mappings() -> dict[str, Any]:
    by_name = {cls.__name__: cls for cls in NODE_CLASSES}
    return {node_id: by_name[name] for node_id, name in NODE_IDS.items()}


def setup_routes() -> bool:
    try:
        return register_routes(prompt_server())
    except Exception:  # never break ComfyUI start-up over the frontend helpers
        logger.exception("comfy-remote: could not register the /comfy-remote routes")
        return False


_ExtensionBase = load_extension_base()

if _ExtensionBase is not None and io is not None:

    class ComfyRemoteExtension(_ExtensionBase):
        async def on_load(self) -> None:
            # ComfyUI >= 0.14 calls this; the pack's __init__ already registered the routes when
            # PromptServer.instance existed at import time (register_routes adds them once per server)
            setup_routes()

        async def get_node_list(self) -> list[Any]:
            # every ComfyUI version calls this (before add_routes): covers a server created after import
            setup_routes()
            return list(NODE_CLASSES)

    async def comfy_entrypoint() -> Any:
        return ComfyRemoteExtension()

else:
    ComfyRemoteExtension = None  # type: ignore[assignment,misc]
    comfy_entrypoint = None  # type: ignore[assignment]


__all__ = ["ComfyRemoteExtension", "DISPLAY_NAMES", "comfy_entrypoint", "node_class_mappings", "setup_routes"]
