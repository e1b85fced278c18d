"""A small stand-in for the parts of ComfyUI the pack touches, written from ComfyUI's source.

Sources read (comfyanonymous/ComfyUI): ``comfy_api/latest/_io.py`` of the 0.3.6x line
(``AutogrowDynamic``) and of the 0.4+ line (``Autogrow``), ``comfy_api/latest/__init__.py``,
``comfy_api/internal`` (``shallow_clone_class``, ``lock_class``), ``execution.py``
(see ``comfy_exec.py`` for validation and execution), ``comfy/utils.py`` (ProgressBar),
``main.py`` (the progress hook), ``server.py`` (PromptServer).

``install(flavour)`` puts fake ``comfy_api``, ``comfy_api.latest`` (``io``, ``_io``,
``ComfyExtension``, ``ComfyAPISync``), ``comfy.utils`` (ProgressBar),
``comfy.model_management`` (interrupt flag) and ``server`` (PromptServer) modules
into ``sys.modules``, plus ``folder_paths`` (in a fresh temp dir: ``rec.folder_paths``) and the
VIDEO types (``comfy_media.py``). Flavours:

- ``"0.3.64"``: ``AutogrowDynamic`` in the private ``_io`` only (not exported by ``io``),
  no ``ComfyAPISync().execution``; V1 info expands the autogrow to
  ``input_N_$id_ag$`` inputs (first ``min`` required, the rest optional).
- ``"0.26"``: ``io.Autogrow`` (TemplatePrefix) reported as ONE ``COMFY_AUTOGROW_V3``
  input; ``ComfyAPISync().execution.set_progress`` exists.
- ``"fixed"``: neither autogrow API (0.3.48-0.3.5x).

Faithful where the pack could go wrong: the Input/Output constructors take only the
keyword arguments the real ones take (a typo is a TypeError, as in ComfyUI), ``as_dict``
keeps the same keys (``multiline: False`` included), hidden values are keyed by
``Hidden`` members, ``execute`` runs on a locked class clone through ``EXECUTE_NORMALIZED``.
"""

from __future__ import annotations

import sys
import tempfile
import types
from typing import Any

import comfy_media
from comfy_loader import RouteTableDef
from comfy_io_node import FLAVOUR, ComfyExtension, ComfyNode, NodeOutput, Schema, lock_class, shallow_clone_class
from comfy_io_types import (
    AutogrowDynamicInput,
    AutogrowInput,
    BooleanInput,
    FloatInput,
    Hidden,
    HiddenHolder,
    Input,
    IntInput,
    Output,
    StringInput,
    TemplatePrefix,
    WidgetInput,
    _type,
)

FLAVOURS = ("0.3.64", "0.26", "fixed")
MODULES = ("comfy_api", "comfy_api.latest", "comfy_api.latest._io", "comfy", "comfy.utils", "comfy.model_management", "server")


class ProgressRecorder:
    """Shared record of what the nodes reported (ProgressBar, set_progress, progress text)."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.interrupt = False
        self.cancel_on_progress = False  # simulate the user pressing Cancel while a node reports progress


def _io_module(name: str) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.Input, mod.WidgetInput, mod.Output = Input, WidgetInput, Output
    mod.Boolean, mod.Int = _type("BOOLEAN", BooleanInput), _type("INT", IntInput)
    mod.Float, mod.String = _type("FLOAT", FloatInput), _type("STRING", StringInput)
    mod.AnyType, mod.Image, mod.Mask = _type("*"), _type("IMAGE"), _type("MASK")
    mod.Schema, mod.NodeOutput, mod.ComfyNode, mod.Hidden, mod.HiddenHolder = Schema, NodeOutput, ComfyNode, Hidden, HiddenHolder
    return mod


def install(flavour: str) -> ProgressRecorder:
    assert flavour in FLAVOURS, flavour
    uninstall()
    FLAVOUR["current"] = flavour
    rec = ProgressRecorder()
    public, private = _io_module("comfy_api.latest.io"), _io_module("comfy_api.latest._io")
    if flavour == "0.3.64":  # private only: 0.3.64's public io does not export it
        private.AutogrowDynamic = types.SimpleNamespace(Input=AutogrowDynamicInput, io_type="COMFY_AUTOGROW_V3")
    if flavour == "0.26":
        ag = types.SimpleNamespace(Input=AutogrowInput, TemplatePrefix=TemplatePrefix, io_type="COMFY_AUTOGROW_V3")
        public.Autogrow = private.Autogrow = ag

    latest = types.ModuleType("comfy_api.latest")
    latest.io, latest._io, latest.ComfyExtension = public, private, ComfyExtension
    if flavour == "0.26":

        class _Execution:
            def set_progress(self, value, max_value, node_id=None, preview_image=None, ignore_size_limit=False):
                rec.calls.append(("set_progress", value, max_value, node_id))

        class ComfyAPISync:
            def __init__(self):
                self.execution = _Execution()

        latest.ComfyAPISync = ComfyAPISync
    else:

        class ComfyAPISync:  # 0.3.64: 'ComfyAPI_latest' object has no attribute 'execution'
            pass

        latest.ComfyAPISync = ComfyAPISync
    root = types.ModuleType("comfy_api")
    root.latest = latest

    class InterruptProcessingException(Exception):
        pass

    mm = types.ModuleType("comfy.model_management")
    mm.InterruptProcessingException = InterruptProcessingException
    mm.processing_interrupted = lambda: rec.interrupt

    def throw_exception_if_processing_interrupted():
        if rec.interrupt:
            rec.interrupt = False
            raise InterruptProcessingException()

    mm.throw_exception_if_processing_interrupted = throw_exception_if_processing_interrupted

    class ProgressBar:  # comfy/utils.py
        def __init__(self, total, node_id=None):
            self.total, self.current, self.node_id = total, 0, node_id

        def update_absolute(self, value, total=None, preview=None):
            if total is not None:
                self.total = total
            value = min(value, self.total)
            self.current = value
            rec.calls.append(("bar", value, total, self.node_id))
            if preview is not None:  # (format, PIL image, max size) as latent_preview.py passes it
                rec.calls.append(("preview", preview[0], preview[1].size, self.node_id))
            if rec.cancel_on_progress:
                rec.interrupt = True
            throw_exception_if_processing_interrupted()  # like main.py's hook

    utils = types.ModuleType("comfy.utils")
    utils.ProgressBar = ProgressBar
    comfy = types.ModuleType("comfy")
    comfy.utils, comfy.model_management = utils, mm

    class PromptServer:
        instance: Any = None

        def __init__(self):
            self.routes = RouteTableDef()  # a web.RouteTableDef in ComfyUI (see comfy_loader.add_routes)

        def send_progress_text(self, text, node_id, sid=None):
            rec.calls.append(("text", text, node_id))

        def send_sync(self, event, data, sid=None):
            rec.calls.append(("send_sync", event, data))

    PromptServer.instance = PromptServer()
    server = types.ModuleType("server")
    server.PromptServer = PromptServer
    for name, mod in zip(MODULES, (root, latest, private, comfy, utils, mm, server)):
        sys.modules[name] = mod
    rec.folder_paths = comfy_media.install(flavour, tempfile.mkdtemp(prefix="comfy-stub-"))
    root.input, root.input_impl = sys.modules["comfy_api.input"], sys.modules["comfy_api.input_impl"]
    return rec


def uninstall() -> None:
    fp = sys.modules.get("folder_paths")
    for name in MODULES:
        sys.modules.pop(name, None)
    comfy_media.uninstall()
    if fp is not None and getattr(fp, "base_path", "").startswith(tempfile.gettempdir()):
        import shutil

        shutil.rmtree(fp.base_path, ignore_errors=True)


def flavour() -> str:
    return FLAVOUR["current"]


__all__ = [
    "FLAVOURS",
    "ComfyNode",
    "Hidden",
    "HiddenHolder",
    "NodeOutput",
    "flavour",
    "install",
    "lock_class",
    "shallow_clone_class",
    "uninstall",
]
