"""``utils`` shim of the generated comfy-remote project.

ComfyUI ships a top-level ``utils`` package (``utils.extra_config``, ``utils.install_util``, ...).
A pip package named ``utils`` or a module preloaded by the platform would shadow it, so this shim
makes ``import utils.<x>`` resolve to ComfyUI's package, wherever ComfyUI lives.
"""

import os

_COMFY_UTILS = os.path.join(os.environ.get("COMFYUI_DIR", "/workspace/ComfyUI"), "utils")
__path__ = [p for p in (_COMFY_UTILS, os.path.dirname(os.path.abspath(__file__))) if os.path.isdir(p)]
