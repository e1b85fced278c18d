"""The pack's node classes (V3 ``io.ComfyNode`` when ComfyUI is importable)."""

from .modal_deployment import ModalDeploymentNode
from .remote_api import RemoteApiNode
from .remote_input import RemoteInputNode
from .remote_output import RemoteOutputNode
from .select_output import SelectOutputNode

NODE_CLASSES = [RemoteInputNode, RemoteOutputNode, RemoteApiNode, ModalDeploymentNode, SelectOutputNode]

__all__ = [
    "NODE_CLASSES",
    "ModalDeploymentNode",
    "RemoteApiNode",
    "RemoteInputNode",
    "RemoteOutputNode",
    "SelectOutputNode",
]
