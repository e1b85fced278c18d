"""A small stand-in for the parts of ComfyUI the pack touches, written from ComfyUI's source.

``install(flavour)`` puts fake ``comfy_api``, ``comfy_api.latest`` (``io``, ``_io``,
``ComfyExtension``, ``ComfyAPISync``), ``comfy.utils`` (ProgressBar),
``comfy.model_management`` (interrupt flag) and ``server`` (PromptServer) modules
into ``sys.modules``. Flavours:

- ``"0.3.64"``: ``AutogrowDynamic`` in the private ``_io`` only (not exported by ``io``),
  no ``ComfyAPISync().execution``; V1 info expands the autogrow to
  ``input_N_$id_ag$`` inputs (first ``min`` required, the rest optional).
- ``"0.26"``: ``io.Autogrow`` (TemplatePrefix) reported as ONE required
  ``COMFY_AUTOGROW_V3`` input; ``ComfyAPISync().execution.set_progress`` exists.
- ``"fixed"``: neither autogrow API (0.3.48-0.3.5x).
"""

from __future__ import annotations

import copy
import sys
import types
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

FLAVOURS = ("0.3.64", "0.26", "fixed")
MODULES = ("comfy_api", "comfy_api.latest", "comfy_api.latest._io", "comfy", "comfy.utils", "comfy.model_management", "server")


def _prune(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


class Input:
    io_type = "*"

    def __init__(self, id, display_name=None, optional=False, tooltip=None, lazy=None, **extra):
        self.id, self.display_name, self.optional, self.tooltip, self.lazy = id, display_name, optional, tooltip, lazy
        self.extra = extra

    def as_dict(self):
        return _prune({"display_name": self.display_name, "optional": self.optional, "tooltip": self.tooltip, "lazy": self.lazy})


class WidgetInput(Input):
    def __init__(self, id, display_name=None, optional=False, tooltip=None, lazy=None, default=None, force_input=None, **extra):
        super().__init__(id, display_name, optional, tooltip, lazy)
        self.default, self.force_input = default, force_input
        self.extra = extra

    def as_dict(self):
        return super().as_dict() | _prune({"default": self.default, "forceInput": self.force_input}) | _prune(self.extra)


class Output:
    io_type = "*"

    def __init__(self, id=None, display_name=None, tooltip=None, is_output_list=False):
        self.id, self.display_name, self.tooltip, self.is_output_list = id, display_name, tooltip, is_output_list


def _type(io_type: str, widget: bool):
    base = WidgetInput if widget else Input
    ns = types.SimpleNamespace(io_type=io_type)
    ns.Input = type(f"{io_type}Input", (base,), {"io_type": io_type})
    ns.Output = type(f"{io_type}Output", (Output,), {"io_type": io_type})
    return ns


class Hidden(str, Enum):
    unique_id = "UNIQUE_ID"
    prompt = "PROMPT"
    extra_pnginfo = "EXTRA_PNGINFO"


class HiddenHolder:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __getattr__(self, key):
        return None


class DynamicInput(Input):
    pass


class AutogrowDynamicInput(DynamicInput):
    """0.3.6x: expands to ``<template id><n>_$<id>_ag$`` inputs."""

    io_type = "COMFY_AUTOGROW_V3"

    def __init__(self, id, template_input, min=1, max=None, display_name=None, optional=False, tooltip=None, lazy=None):
        super().__init__(id, display_name, optional, tooltip, lazy)
        self.template_input, self.min, self.max = template_input, min, max

    def get_dynamic(self):
        out = []
        for n in range(1, self.max + 1):
            new = copy.copy(self.template_input)
            new.id = f"{self.template_input.id}{n}_${self.id}_ag$"
            new.optional = True if n > self.min else (self.optional or new.optional)
            out.append(new)
        return out


class TemplatePrefix:
    def __init__(self, input, prefix, min=1, max=10):
        assert not isinstance(input, DynamicInput)
        self.input, self.prefix, self.min, self.max = copy.copy(input), prefix, min, max

    def as_dict(self):
        return {"input": {"required": {self.input.id: (self.input.io_type, self.input.as_dict())}}, "prefix": self.prefix, "min": self.min, "max": self.max}


class AutogrowInput(DynamicInput):
    io_type = "COMFY_AUTOGROW_V3"

    def __init__(self, id, template, display_name=None, optional=False, tooltip=None, lazy=None):
        super().__init__(id, display_name, optional, tooltip, lazy)
        self.template = template

    def as_dict(self):
        return super().as_dict() | {"template": self.template.as_dict()}


@dataclass
class Schema:
    node_id: str
    display_name: str | None = None
    category: str = "sd"
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    hidden: list = field(default_factory=list)
    description: str = ""
    is_output_node: bool = False
    not_idempotent: bool = False

    def validate(self):
        ids = [i.id for i in self.inputs] + [o.id for o in self.outputs]
        if len(ids) != len(set(ids)):
            raise ValueError(f"ids must be unique: {ids}")

    def get_v1_info(self, dynamic_style: str) -> dict:
        inp: dict[str, dict] = {"required": {}}
        for i in self.inputs:
            items = i.get_dynamic() if dynamic_style == "expand" and isinstance(i, AutogrowDynamicInput) else [i]
            for it in items:
                d = it.as_dict()
                d.pop("optional", None)
                inp.setdefault("optional" if it.optional else "required", {})[it.id] = (it.io_type, d)
        for h in self.hidden:
            inp.setdefault("hidden", {})[h.name] = (h.value,)
        return {
            "input": inp,
            "input_order": {k: list(v) for k, v in inp.items()},
            "output": [o.io_type for o in self.outputs],
            "output_name": [o.display_name or o.io_type for o in self.outputs],
            "name": self.node_id,
            "display_name": self.display_name,
            "category": self.category,
            "output_node": self.is_output_node,
        }


class NodeOutput:
    def __init__(self, *args, ui=None, expand=None, block_execution=None):
        self.args, self.ui, self.expand, self.block_execution = args, ui, expand, block_execution

    def __getitem__(self, index):
        return self.args[index]


class ComfyExtension:
    async def on_load(self):
        return None


class ProgressRecorder:
    """Shared record of what the nodes reported (ProgressBar, set_progress, progress text)."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.interrupt = False
        self.cancel_on_progress = False  # simulate the user pressing Cancel while a node reports progress


def install(flavour: str) -> ProgressRecorder:
    assert flavour in FLAVOURS, flavour
    uninstall()
    rec = ProgressRecorder()
    style = "expand" if flavour == "0.3.64" else "plain"

    class ComfyNode:
        hidden = None

        @classmethod
        def GET_NODE_INFO_V1(cls):
            schema = cls.define_schema()
            if schema.is_output_node:
                schema.hidden = list(schema.hidden) + [h for h in (Hidden.prompt, Hidden.extra_pnginfo) if h not in schema.hidden]
            schema.validate()
            return schema.get_v1_info(style)

        @classmethod
        def PREPARE_CLASS_CLONE(cls, hidden_inputs):
            return type(cls.__name__, (cls,), {"hidden": HiddenHolder(**hidden_inputs)})

    public = types.ModuleType("comfy_api.latest.io")
    private = types.ModuleType("comfy_api.latest._io")
    for mod in (public, private):
        mod.Input, mod.WidgetInput, mod.Output = Input, WidgetInput, Output
        mod.String, mod.Float, mod.Int, mod.Boolean = (_type(t, True) for t in ("STRING", "FLOAT", "INT", "BOOLEAN"))
        mod.AnyType, mod.Image, mod.Mask = (_type(t, False) for t in ("*", "IMAGE", "MASK"))
        mod.Schema, mod.NodeOutput, mod.ComfyNode, mod.Hidden = Schema, NodeOutput, ComfyNode, Hidden
    if flavour == "0.3.64":
        private.AutogrowDynamic = types.SimpleNamespace(Input=AutogrowDynamicInput, io_type="COMFY_AUTOGROW_V3")
    if flavour == "0.26":
        ag = types.SimpleNamespace(Input=AutogrowInput, TemplatePrefix=TemplatePrefix, io_type="COMFY_AUTOGROW_V3")
        public.Autogrow = private.Autogrow = ag

    latest = types.ModuleType("comfy_api.latest")
    latest.io, latest._io, latest.ComfyExtension = public, private, ComfyExtension
    if flavour == "0.26":

        class _Execution:
            def set_progress(self, value, max_value, node_id=None, preview_image=None):
                rec.calls.append(("set_progress", value, max_value, node_id))

        class ComfyAPISync:
            execution = _Execution()

        latest.ComfyAPISync = ComfyAPISync
    else:

        class ComfyAPISync:  # 0.3.64: no execution attribute
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

    class ProgressBar:
        def __init__(self, total, node_id=None):
            self.total, self.node_id = total, node_id

        def update_absolute(self, value, total=None, preview=None):
            rec.calls.append(("bar", value, total, self.node_id))
            if rec.cancel_on_progress:
                rec.interrupt = True
            throw_exception_if_processing_interrupted()  # like ComfyUI's hook

    utils = types.ModuleType("comfy.utils")
    utils.ProgressBar = ProgressBar
    comfy = types.ModuleType("comfy")
    comfy.utils, comfy.model_management = utils, mm

    class PromptServer:
        instance: Any = None

        def send_progress_text(self, text, node_id, sid=None):
            rec.calls.append(("text", text, node_id))

        def send_sync(self, event, data, sid=None):
            rec.calls.append(("send_sync", event, data))

    PromptServer.instance = PromptServer()
    server = types.ModuleType("server")
    server.PromptServer = PromptServer
    for name, mod in zip(MODULES, (root, latest, private, comfy, utils, mm, server)):
        sys.modules[name] = mod
    return rec


def uninstall() -> None:
    for name in MODULES:
        sys.modules.pop(name, None)
