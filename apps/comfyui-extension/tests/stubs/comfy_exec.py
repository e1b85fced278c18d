"""How ComfyUI validates and runs an API prompt, reduced to what matters for the pack's nodes.

Written from comfyanonymous/ComfyUI ``execution.py`` (``validate_inputs``, ``get_input_data``,
``_async_map_node_over_list``, ``get_output_from_returns``, ``IsChangedCache``),
``comfy_execution/validation.py`` (``validate_node_input``) and, for the 0.26 flavour,
``comfy_api/latest/_io.py`` (``get_finalized_class_inputs``, ``Autogrow._expand_schema_for_dynamic``,
``build_nested_inputs``). Install a flavour with ``comfy_v3.install`` first.

- ``validate_prompt(prompt, classes)`` -> ``{node_id: [error, ...]}`` (empty when the prompt is valid).
- ``run_prompt(prompt, classes)`` -> ``{"outputs": {node_id: ui}, "values": {node_id: outputs}}``; the
  ``ui`` dicts are merged as ComfyUI merges them and must survive ``json.dumps`` (history).
- ``fingerprint(cls, inputs)`` -> what ``IsChangedCache`` gets (linked inputs are None).
"""

from __future__ import annotations

import json
from typing import Any

import comfy_v3

V3_NODE = comfy_v3.ComfyNode


def is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def validate_node_input(received: Any, expected: Any) -> bool:
    if received == expected or received == "*" or expected == "*":
        return True
    if not isinstance(received, str) or not isinstance(expected, str):
        return False
    return bool({t.strip() for t in received.split(",")} & {t.strip() for t in expected.split(",")})


def class_inputs(cls: Any, live: dict[str, Any]) -> tuple[dict[str, dict], dict[str, str], set[str]]:
    """(``{"required": {...}, "optional": {...}}``, dynamic paths, paths that default to ``{}``)."""

    raw = cls.INPUT_TYPES(include_hidden=False) if issubclass(cls, V3_NODE) else dict(cls.INPUT_TYPES())
    raw.pop("hidden", None)
    out: dict[str, dict] = {"required": {}, "optional": {}}
    paths: dict[str, str] = {}
    empty: set[str] = set()
    for category, specs in raw.items():
        for name, spec in specs.items():
            if spec[0] != "COMFY_AUTOGROW_V3" or comfy_v3.flavour() != "0.26":
                out[category][name] = spec
                continue
            template = spec[1]["template"]
            t_category, t_specs = next((k, v) for k, v in template["input"].items() if v)
            t_spec = next(iter(t_specs.values()))
            names = [f"{template['prefix']}{i}" for i in range(template["max"])]
            found = False
            for i, slot in enumerate(names):
                key = f"{name}.{slot}"
                required = i < template["min"] and t_category == "required"
                out["required" if required else "optional"][key] = t_spec
                if key in live:
                    paths[key] = key
                    found = True
            if not found:
                paths[name] = name
                empty.add(name)
    return out, paths, empty


def _return_types(cls: Any) -> list:
    return list(cls.RETURN_TYPES)


def validate_node(prompt: dict, node_id: str, classes: dict[str, Any]) -> list[dict]:
    node = prompt[node_id]
    cls = classes[node["class_type"]]
    inputs = node["inputs"]
    specs, _paths, _empty = class_inputs(cls, inputs)
    errors: list[dict] = []
    for category in ("required", "optional"):
        for name, spec in specs[category].items():
            input_type, extra = spec[0], (spec[1] if len(spec) > 1 else {})
            if name not in inputs:
                if category == "required":
                    errors.append({"type": "required_input_missing", "details": name})
                continue
            val = inputs[name]
            if isinstance(val, list):
                if not is_link(val) or val[0] not in prompt:
                    errors.append({"type": "bad_linked_input", "details": name})
                    continue
                received = _return_types(classes[prompt[val[0]]["class_type"]])[val[1]]
                if not validate_node_input(received, input_type):
                    errors.append({"type": "return_type_mismatch", "details": f"{name}, {received} != {input_type}"})
                continue
            try:
                convert = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}.get(input_type) if isinstance(input_type, str) else None
                if convert is not None:
                    val = inputs[name] = convert(val)
            except Exception as exc:
                errors.append({"type": "invalid_input_type", "details": f"{name}, {val}, {exc}"})
                continue
            if "min" in extra and val < extra["min"]:
                errors.append({"type": "value_smaller_than_min", "details": name})
            if "max" in extra and val > extra["max"]:
                errors.append({"type": "value_bigger_than_max", "details": name})
            if isinstance(input_type, list) and val not in input_type:
                errors.append({"type": "value_not_in_list", "details": name})
    return errors


def validate_prompt(prompt: dict, classes: dict[str, Any]) -> dict[str, list[dict]]:
    return {nid: errs for nid in prompt if (errs := validate_node(prompt, nid, classes))}


def _hidden(cls: Any, node_id: str, prompt: dict) -> dict:
    schema = cls.FINALIZE_SCHEMA()
    H = comfy_v3.Hidden
    hidden: dict = {}
    for h in schema.hidden or []:
        hidden[h] = {H.unique_id: node_id, H.prompt: prompt, H.extra_pnginfo: None}.get(h)
    return hidden


def get_input_data(cls: Any, node_id: str, prompt: dict, values: dict[str, list] | None) -> tuple[dict, dict]:
    """kwargs for ``execute`` (links resolved, undeclared LINKED names kept, as ComfyUI does) + hidden."""

    inputs = prompt[node_id]["inputs"]
    specs, paths, empty = class_inputs(cls, inputs)
    declared = {**specs["required"], **specs["optional"]}
    data: dict[str, Any] = {}
    for name, val in inputs.items():
        if is_link(val):
            data[name] = None if values is None else values[val[0]][val[1]]
        elif name in declared:
            data[name] = val
    if comfy_v3.flavour() == "0.26" and issubclass(cls, V3_NODE):  # build_nested_inputs
        for key in paths:
            head, _, tail = key.partition(".")
            if key in empty:
                data[head] = {}
            elif tail:
                data.setdefault(head, {})[tail] = data.pop(key, None)
    return data, _hidden(cls, node_id, prompt) if issubclass(cls, V3_NODE) else {}


def call_node(cls: Any, func: str, kwargs: dict, hidden: dict) -> Any:
    if issubclass(cls, V3_NODE):
        cls.VALIDATE_CLASS()
        locked = comfy_v3.lock_class(cls.PREPARE_CLASS_CLONE(hidden))  # make_locked_method_func
        return getattr(cls, func).__func__(locked, **kwargs)
    return getattr(cls(), func)(**kwargs)


def fingerprint(cls: Any, node_id: str, prompt: dict) -> Any:
    data, hidden = get_input_data(cls, node_id, prompt, None)
    return call_node(cls, "fingerprint_inputs", data, hidden)


def _order(prompt: dict) -> list[str]:
    done: list[str] = []

    def visit(nid: str) -> None:
        if nid in done:
            return
        for val in prompt[nid]["inputs"].values():
            if is_link(val):
                visit(val[0])
        done.append(nid)

    for nid in prompt:
        visit(nid)
    return done


def run_prompt(prompt: dict, classes: dict[str, Any]) -> dict[str, Any]:
    errors = validate_prompt(prompt, classes)
    if errors:
        raise AssertionError(f"ComfyUI would reject this prompt (400): {errors}")
    values: dict[str, list] = {}
    uis: dict[str, dict] = {}
    for nid in _order(prompt):
        cls = classes[prompt[nid]["class_type"]]
        kwargs, hidden = get_input_data(cls, nid, prompt, values)
        ret = call_node(cls, cls.FUNCTION, kwargs, hidden)
        if isinstance(ret, comfy_v3.NodeOutput):  # get_output_from_returns
            if ret.ui is not None:
                ui = ret.ui if isinstance(ret.ui, dict) else ret.ui.as_dict()
                uis[nid] = {k: list(v) for k, v in ui.items()}
            result = ret.result
        elif isinstance(ret, dict):  # V1 {"ui": ..., "result": ...}
            if "ui" in ret:
                uis[nid] = {k: list(v) for k, v in ret["ui"].items()}
            result = ret.get("result", ())
        else:
            result = ret
        values[nid] = list(result) if result is not None else []
        assert len(values[nid]) == len(_return_types(cls)), f"node {nid} returned {len(values[nid])} values"
    json.dumps(uis)  # the history entry and the 'executed' message are JSON
    return {"outputs": uis, "values": values}


__all__ = ["call_node", "class_inputs", "fingerprint", "get_input_data", "run_prompt", "validate_node_input", "validate_prompt"]
