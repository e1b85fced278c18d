"""ComfyUI's V3 input/output classes (``comfy_api/latest/_io.py``), with the real constructor signatures.

A keyword the real class does not take is a TypeError here too; ``as_dict`` keeps the same keys
(``multiline: False`` included). ``AutogrowDynamicInput`` is the 0.3.6x class, ``AutogrowInput`` +
``TemplatePrefix`` the 0.4+ ``io.Autogrow``.
"""

from __future__ import annotations

import copy
import types
from abc import ABC, abstractmethod
from enum import Enum


def prune_dict(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


class Input:
    io_type = "*"

    def __init__(self, id, display_name=None, optional=False, tooltip=None, lazy=None, extra_dict=None, raw_link=None):
        self.id, self.display_name, self.optional, self.tooltip, self.lazy = id, display_name, optional, tooltip, lazy
        self.extra_dict = extra_dict if extra_dict is not None else {}
        self.rawLink = raw_link

    def as_dict(self):
        base = {"display_name": self.display_name, "optional": self.optional, "tooltip": self.tooltip, "lazy": self.lazy, "rawLink": self.rawLink}
        return prune_dict(base) | prune_dict(self.extra_dict)

    def get_io_type(self):
        return self.io_type

    def get_all(self):
        return [self]


class WidgetInput(Input):
    def __init__(self, id, display_name=None, optional=False, tooltip=None, lazy=None, default=None, socketless=None, widget_type=None, force_input=None, extra_dict=None, raw_link=None):
        super().__init__(id, display_name, optional, tooltip, lazy, extra_dict, raw_link)
        self.default, self.socketless, self.widget_type, self.force_input = default, socketless, widget_type, force_input

    def as_dict(self):
        return super().as_dict() | prune_dict({"default": self.default, "socketless": self.socketless, "widgetType": self.widget_type, "forceInput": self.force_input})


class Output:
    io_type = "*"

    def __init__(self, id=None, display_name=None, tooltip=None, is_output_list=False):
        self.id, self.display_name, self.tooltip, self.is_output_list = id, display_name, tooltip, is_output_list


class BooleanInput(WidgetInput):
    io_type = "BOOLEAN"

    def __init__(self, id, display_name=None, optional=False, tooltip=None, lazy=None, default=None, label_on=None, label_off=None, socketless=None, force_input=None, extra_dict=None, raw_link=None):
        super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input, extra_dict, raw_link)
        self.label_on, self.label_off = label_on, label_off

    def as_dict(self):
        return super().as_dict() | prune_dict({"label_on": self.label_on, "label_off": self.label_off})


class IntInput(WidgetInput):
    io_type = "INT"

    def __init__(self, id, display_name=None, optional=False, tooltip=None, lazy=None, default=None, min=None, max=None, step=None, control_after_generate=None, display_mode=None, socketless=None, force_input=None, extra_dict=None, raw_link=None):
        super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input, extra_dict, raw_link)
        self.min, self.max, self.step, self.control_after_generate = min, max, step, control_after_generate

    def as_dict(self):
        return super().as_dict() | prune_dict({"min": self.min, "max": self.max, "step": self.step, "control_after_generate": self.control_after_generate})


class FloatInput(WidgetInput):
    io_type = "FLOAT"

    def __init__(self, id, display_name=None, optional=False, tooltip=None, lazy=None, default=None, min=None, max=None, step=None, round=None, display_mode=None, socketless=None, force_input=None, extra_dict=None, raw_link=None):
        super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input, extra_dict, raw_link)
        self.min, self.max, self.step, self.round, self.display_mode = min, max, step, round, display_mode

    def as_dict(self):
        return super().as_dict() | prune_dict({"min": self.min, "max": self.max, "step": self.step, "round": self.round, "display": self.display_mode})


class StringInput(WidgetInput):
    io_type = "STRING"

    def __init__(self, id, display_name=None, optional=False, tooltip=None, lazy=None, multiline=False, placeholder=None, default=None, dynamic_prompts=None, socketless=None, force_input=None, extra_dict=None, raw_link=None):
        super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input, extra_dict, raw_link)
        self.multiline, self.placeholder, self.dynamic_prompts = multiline, placeholder, dynamic_prompts

    def as_dict(self):
        return super().as_dict() | prune_dict({"multiline": self.multiline, "placeholder": self.placeholder, "dynamicPrompts": self.dynamic_prompts})


def _type(io_type: str, input_cls: type = Input):
    ns = types.SimpleNamespace(io_type=io_type)
    ns.Input = type(f"{io_type}Input", (input_cls,), {"io_type": io_type})
    ns.Output = type(f"{io_type}Output", (Output,), {"io_type": io_type})
    return ns


class Hidden(str, Enum):
    unique_id = "UNIQUE_ID"
    prompt = "PROMPT"
    extra_pnginfo = "EXTRA_PNGINFO"
    dynprompt = "DYNPROMPT"
    auth_token_comfy_org = "AUTH_TOKEN_COMFY_ORG"
    api_key_comfy_org = "API_KEY_COMFY_ORG"


class HiddenHolder:
    def __init__(self, unique_id=None, prompt=None, extra_pnginfo=None, dynprompt=None, **kwargs):
        self.unique_id, self.prompt, self.extra_pnginfo, self.dynprompt = unique_id, prompt, extra_pnginfo, dynprompt

    def __getattr__(self, key):
        return None

    @classmethod
    def from_dict(cls, d):
        d = d or {}
        return cls(unique_id=d.get(Hidden.unique_id), prompt=d.get(Hidden.prompt), extra_pnginfo=d.get(Hidden.extra_pnginfo), dynprompt=d.get(Hidden.dynprompt))


class DynamicInput(Input, ABC):
    @abstractmethod
    def get_dynamic(self): ...


class AutogrowDynamicInput(DynamicInput):
    """0.3.6x: expands to ``<template id><n>_$<id>_ag$`` inputs (``min`` >= 1 asserted, as in ComfyUI)."""

    io_type = "COMFY_AUTOGROW_V3"

    def __init__(self, id, template_input, min=1, max=None, display_name=None, optional=False, tooltip=None, lazy=None, extra_dict=None):
        super().__init__(id, display_name, optional, tooltip, lazy, extra_dict)
        assert min is None or min >= 1
        assert max is None or max >= 1
        self.template_input, self.min, self.max = template_input, min, max

    def get_dynamic(self):
        out = []
        for n in range(1, self.max + 1):
            new = copy.copy(self.template_input)
            new.id = f"{self.template_input.id}{n}_${self.id}_ag$"
            new.optional = True if n > self.min else (self.optional or new.optional)
            if isinstance(self.template_input, WidgetInput):
                new.force_input = True
            out.append(new)
        return out


class TemplatePrefix:
    def __init__(self, input, prefix, min=1, max=10):
        assert not isinstance(input, DynamicInput)
        assert min >= 0 and 1 <= max <= 100
        self.input, self.prefix, self.min, self.max = copy.copy(input), prefix, min, max
        if isinstance(self.input, WidgetInput):
            self.input.force_input = True
        self.names = [f"{prefix}{i}" for i in range(max)]

    def get_all(self):
        out = []
        for name in self.names:
            new = copy.copy(self.input)
            new.id = name
            out.append(new)
        return out

    def as_dict(self):
        d = self.input.as_dict()
        d.pop("optional", None)
        key = "optional" if self.input.optional else "required"
        return {"input": {key: {self.input.id: (self.input.get_io_type(), d)}}, "prefix": self.prefix, "min": self.min, "max": self.max}


class AutogrowInput(DynamicInput):
    io_type = "COMFY_AUTOGROW_V3"

    def __init__(self, id, template, display_name=None, optional=False, tooltip=None, lazy=None, extra_dict=None):
        super().__init__(id, display_name, optional, tooltip, lazy, extra_dict)
        self.template = template

    def get_dynamic(self):
        return [self]

    def get_all(self):
        return [self, *self.template.get_all()]

    def as_dict(self):
        return super().as_dict() | {"template": self.template.as_dict()}
