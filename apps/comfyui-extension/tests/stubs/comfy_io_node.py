"""ComfyUI's V3 ``Schema``, ``NodeOutput``, ``ComfyNode`` and ``ComfyExtension`` (``comfy_api/latest/_io.py``,
``comfy_api/latest/__init__.py``, ``comfy_api/internal``), as far as the pack uses them.

``FLAVOUR["current"]`` decides how V1 info reports autogrow inputs ("0.26": one input; else expanded).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from comfy_io_types import AutogrowDynamicInput, Hidden, HiddenHolder

FLAVOUR = {"current": "0.3.64"}


@dataclass
class Schema:
    node_id: str
    display_name: str | None = None
    category: str = "sd"
    inputs: list | None = None
    outputs: list | None = None
    hidden: list | None = None
    description: str = ""
    is_input_list: bool = False
    is_output_node: bool = False
    is_deprecated: bool = False
    is_experimental: bool = False
    is_api_node: bool = False
    not_idempotent: bool = False
    enable_expand: bool = False

    def validate(self):
        inputs = [x for i in (self.inputs or []) for x in i.get_all()]
        input_ids = [i.id for i in inputs]
        output_ids = [o.id for o in self.outputs or []]
        if len(input_ids) != len(set(input_ids)) or len(output_ids) != len(set(output_ids)):
            raise ValueError(f"ids must be unique: {input_ids} {output_ids}")
        if set(input_ids) & set(output_ids):
            raise ValueError(f"Ids must be unique between inputs and outputs, but {set(input_ids) & set(output_ids)} are not.")

    def finalize(self):
        if self.is_output_node:
            self.hidden = list(self.hidden or [])
            for h in (Hidden.prompt, Hidden.extra_pnginfo):
                if h not in self.hidden:
                    self.hidden.append(h)
        for i, output in enumerate(self.outputs or []):
            if output.id is None:
                output.id = f"_{i}_{output.io_type}_"

    def v1_input(self) -> dict:
        expand = FLAVOUR["current"] != "0.26"
        inp: dict[str, dict] = {"required": {}}
        for i in self.inputs or []:
            items = i.get_dynamic() if expand and isinstance(i, AutogrowDynamicInput) else [i]
            for it in items:
                d = it.as_dict()
                d.pop("optional", None)
                inp.setdefault("optional" if it.optional else "required", {})[it.id] = (it.get_io_type(), d)
        for h in self.hidden or []:
            inp.setdefault("hidden", {})[h.name] = (h.value,)
        return inp

    def get_v1_info(self, cls) -> dict:
        inp = self.v1_input()
        outputs = self.outputs or []
        return {
            "input": inp,
            "input_order": {k: list(v) for k, v in inp.items()},
            "output": [o.io_type for o in outputs],
            "output_is_list": [o.is_output_list for o in outputs],
            "output_name": [o.display_name or o.io_type for o in outputs],
            "name": self.node_id,
            "display_name": self.display_name,
            "description": self.description,
            "category": self.category,
            "output_node": self.is_output_node,
        }


class NodeOutput:
    def __init__(self, *args, ui=None, expand=None, block_execution=None):
        self.args, self.ui, self.expand, self.block_execution = args, ui, expand, block_execution

    @property
    def result(self):
        return self.args if len(self.args) > 0 else None

    def __getitem__(self, index):
        return self.args[index]


class classproperty:
    def __init__(self, f):
        self.f = f

    def __get__(self, obj, owner):
        return self.f(owner)


def first_real_override(cls, name):
    """The override of ``name`` below ComfyNode, or None (``comfy_api.internal.first_real_override``)."""

    base = getattr(ComfyNode, name)
    fn = getattr(cls, name, None)
    return None if fn is None or getattr(fn, "__func__", fn) is getattr(base, "__func__", base) else fn


def shallow_clone_class(cls, new_name=None):
    """``comfy_api.internal.shallow_clone_class``."""

    return type(new_name or f"{cls.__name__}Clone", (cls, *cls.__bases__), dict(cls.__dict__))


def lock_class(cls):
    """``comfy_api.internal.lock_class``: the same class rebuilt so that its attributes cannot be set."""

    def locked_instance_setattr(self, name, value):
        raise AttributeError(f"Cannot set attribute '{name}' on immutable instance of {type(self).__name__}")

    class LockedMeta(type(cls)):
        def __setattr__(cls_, name, value):
            raise AttributeError(f"Cannot modify class attribute '{name}' on locked class '{cls_.__name__}'")

    locked_dict = dict(cls.__dict__)
    locked_dict["__setattr__"] = locked_instance_setattr
    return LockedMeta(cls.__name__, cls.__bases__, locked_dict)


class ComfyNode:  # not an ABC in ComfyUI either (lock_class rebuilds the class through its metaclass)
    hidden: Any = None
    SCHEMA: Any = None
    RELATIVE_PYTHON_MODULE = None

    @classmethod
    @abstractmethod
    def define_schema(cls): ...

    @classmethod
    @abstractmethod
    def execute(cls, **kwargs): ...

    @classmethod
    def validate_inputs(cls, **kwargs):
        raise NotImplementedError

    @classmethod
    def fingerprint_inputs(cls, **kwargs):
        raise NotImplementedError

    @classmethod
    def VALIDATE_CLASS(cls):
        for name in ("define_schema", "execute"):
            if first_real_override(cls, name) is None:
                raise Exception(f"No {name} function was defined for node class {cls.__name__}.")

    @classproperty
    def FUNCTION(cls):  # noqa: N802
        return "EXECUTE_NORMALIZED_ASYNC" if inspect.iscoroutinefunction(cls.execute) else "EXECUTE_NORMALIZED"

    @classmethod
    def EXECUTE_NORMALIZED(cls, *args, **kwargs):  # noqa: N802
        out = cls.execute(*args, **kwargs)
        if out is None:
            out = NodeOutput()
        elif isinstance(out, tuple):
            out = NodeOutput(*out)
        elif not isinstance(out, NodeOutput):
            raise Exception(f"Invalid return type from node: {type(out)}")
        return out

    @classmethod
    def PREPARE_CLASS_CLONE(cls, hidden_inputs):  # noqa: N802
        clone = shallow_clone_class(cls)
        clone.hidden = HiddenHolder.from_dict(hidden_inputs)
        return clone

    @classmethod
    def FINALIZE_SCHEMA(cls):  # noqa: N802
        schema = cls.define_schema()
        schema.finalize()
        return schema

    @classmethod
    def GET_SCHEMA(cls):  # noqa: N802
        cls.VALIDATE_CLASS()
        schema = cls.FINALIZE_SCHEMA()
        schema.validate()
        cls.SCHEMA = schema
        return schema

    @classmethod
    def INPUT_TYPES(cls, include_hidden=True, return_schema=False):  # noqa: N802
        schema = cls.FINALIZE_SCHEMA()
        inp = schema.v1_input()
        if not include_hidden:
            inp.pop("hidden", None)
        return (inp, schema) if return_schema else inp

    @classproperty
    def RETURN_TYPES(cls):  # noqa: N802
        return [o.io_type for o in cls.GET_SCHEMA().outputs or []]

    @classproperty
    def OUTPUT_NODE(cls):  # noqa: N802
        return cls.GET_SCHEMA().is_output_node

    @classmethod
    def GET_NODE_INFO_V1(cls):  # noqa: N802
        return cls.GET_SCHEMA().get_v1_info(cls)


class ComfyExtension(ABC):
    async def on_load(self) -> None:
        return None

    @abstractmethod
    async def get_node_list(self) -> list: ...
