"""comfy-remote: ComfyUI node pack entry. Registration only; the code lives in comfy_remote/."""

import logging

from .comfy_remote import extension as _extension
from .comfy_remote.nodes.base import io as _io

WEB_DIRECTORY = "./web"
__all__ = ["WEB_DIRECTORY"]

if _extension.comfy_entrypoint is not None:
    # V3 registration: ComfyUI loads the nodes from comfy_entrypoint. The routes are added now, because
    # PromptServer.instance already exists when packs are imported and ComfyUI < 0.14 never calls
    # on_load(); on_load() adds them only if they are not there yet (exactly once either way).
    comfy_entrypoint = _extension.comfy_entrypoint
    _extension.setup_routes()
    __all__ += ["comfy_entrypoint"]
elif _io is None:
    # not inside ComfyUI >= 0.3.48 (no comfy_api.latest): nothing to register
    logging.getLogger(__name__).warning("comfy-remote needs ComfyUI >= 0.3.48 (comfy_api.latest); nodes not registered")
    NODE_CLASS_MAPPINGS = {}
    NODE_DISPLAY_NAME_MAPPINGS = {}
    __all__ += ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
else:
    # V3 classes through the classic mappings (ComfyUI builds without ComfyExtension)
    NODE_CLASS_MAPPINGS = _extension.node_class_mappings()
    NODE_DISPLAY_NAME_MAPPINGS = dict(_extension.DISPLAY_NAMES)
    _extension.setup_routes()
    __all__ += ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
