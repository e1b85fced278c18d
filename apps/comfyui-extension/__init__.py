"""comfy-remote: ComfyUI node pack entry. Registration only; the code lives in comfy_remote/."""

import logging

from .comfy_remote.extension import DISPLAY_NAMES, comfy_entrypoint, node_class_mappings, setup_routes
from .comfy_remote.nodes.base import io as _io

WEB_DIRECTORY = "./web"

if comfy_entrypoint is None:
    if _io is None:
        # not inside ComfyUI >= 0.3.48 (no comfy_api.latest): nothing to register
        logging.getLogger(__name__).warning("comfy-remote needs ComfyUI >= 0.3.48 (comfy_api.latest); nodes not registered")
        NODE_CLASS_MAPPINGS = {}
        NODE_DISPLAY_NAME_MAPPINGS = {}
    else:
        # V3 classes through the classic mappings (ComfyUI builds without ComfyExtension)
        NODE_CLASS_MAPPINGS = node_class_mappings()
        NODE_DISPLAY_NAME_MAPPINGS = dict(DISPLAY_NAMES)
        setup_routes()

__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]
