"""The Remote API node's growing ``remote_inputs``: feature detection and name mapping.

Three ComfyUI flavours give the same slots different names:

- 0.3.6x ``AutogrowDynamic``: flat kwargs ``input_1_$remote_inputs_ag$`` .. ``input_8_...``;
- 0.4+ ``io.Autogrow``: ``remote_inputs={"input0": v, "input1": v}`` (API prompt keys
  ``remote_inputs.input0``), 0-based;
- neither: fixed optional inputs ``input_1`` .. ``input_8``.

All map to slot numbers 1..8 and then to request names: the name the user (or
the frontend's "Load inputs from endpoint") put at that position of
``input_names``, else ``input_<slot>`` (the original's names).

``io.Autogrow`` gets ``min=0`` (0.3.6x keeps the original's ``min=1``): a workflow saved
with the original pack links ``input_1_$remote_inputs_ag$``; newer ComfyUI still passes
such a LINKED undeclared input to ``execute`` (``execution.get_input_data``), but with
``min=1`` it first rejects the prompt (``required_input_missing: remote_inputs.input0``).
"""

from __future__ import annotations

import re
from typing import Any

AUTOGROW_ID = "remote_inputs"
MAX_INPUTS = 8
MIN_INPUTS = 1
AUTOGROW_MIN_INPUTS = 0
_DYNAMIC = re.compile(r"^input_(\d+)_\$" + AUTOGROW_ID + r"_ag\$$")
_DOTTED = re.compile(r"^" + AUTOGROW_ID + r"\.input(\d+)$")
_NEW = re.compile(r"^input(\d+)$")
_PLAIN = re.compile(r"^input_(\d+)$")


def autogrow_flavour(io: Any) -> str:
    """``autogrow`` (io.Autogrow), ``dynamic`` (AutogrowDynamic) or ``fixed``."""

    if io is None:
        return "fixed"
    if hasattr(io, "Autogrow") and hasattr(io.Autogrow, "TemplatePrefix"):
        return "autogrow"
    if hasattr(io, "AutogrowDynamic"):
        return "dynamic"
    return "fixed"


def remote_input_specs(io: Any) -> list[Any]:
    """The schema inputs that hold the remote inputs, for the detected flavour."""

    flavour = autogrow_flavour(io)
    if flavour == "autogrow":
        template = io.Autogrow.TemplatePrefix(io.AnyType.Input("input"), prefix="input", min=AUTOGROW_MIN_INPUTS, max=MAX_INPUTS)
        return [io.Autogrow.Input(AUTOGROW_ID, template=template)]
    if flavour == "dynamic":
        return [io.AutogrowDynamic.Input(AUTOGROW_ID, template_input=io.AnyType.Input("input_"), min=MIN_INPUTS, max=MAX_INPUTS)]
    return [io.AnyType.Input(f"input_{k}", optional=k > MIN_INPUTS) for k in range(1, MAX_INPUTS + 1)]


def slot_of(name: str) -> int | None:
    """Slot number (1-based) of a kwarg / API prompt key, or None when it is not a remote input."""

    for pattern, base in ((_DYNAMIC, 0), (_DOTTED, 1), (_PLAIN, 0)):
        m = pattern.match(name)
        if m:
            return int(m.group(1)) + base
    return None


def collect_slots(kwargs: dict[str, Any]) -> dict[int, Any]:
    """``{slot: value}`` of every connected remote input (None values are left out), any flavour."""

    slots: dict[int, Any] = {}
    keys: dict[int, str] = {}

    def put(slot: int, key: str, value: Any) -> None:
        if slot in slots:
            # e.g. a workflow saved on 0.3.6x (input_1_$remote_inputs_ag$ still linked) opened on a newer
            # ComfyUI where the frontend's own remote_inputs.input0 got connected too: never drop one silently
            from .errors import BadInputError

            raise BadInputError(
                f"remote input {slot} is connected twice ({keys[slot]} and {key}); disconnect one of them "
                "(an old workflow's input_k slots and the remote_inputs group number their inputs alike)"
            )
        slots[slot] = value
        keys[slot] = key

    group = kwargs.get(AUTOGROW_ID)
    if isinstance(group, dict):
        for key, value in group.items():
            m = _NEW.match(str(key)) or _PLAIN.match(str(key))
            if m and value is not None:
                index = int(m.group(1))
                put(index + 1 if _NEW.match(str(key)) else index, f"{AUTOGROW_ID}.{key}", value)
    for key, value in kwargs.items():
        slot = slot_of(key)
        if slot is not None and value is not None:
            put(slot, key, value)
    return dict(sorted(slots.items()))


def parse_input_names(text: str | None) -> list[str]:
    """``input_names`` widget text: names separated by commas or newlines; blanks keep their position."""

    if not text or not text.strip():
        return []
    if text.strip().startswith("["):
        import json

        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return [str(x).strip() if x is not None else "" for x in parsed]
        except ValueError:
            pass
    return [part.strip() for part in re.split(r"[,\n]", text)]


def request_names(slots: dict[int, Any], names: list[str]) -> dict[str, Any]:
    """``{request name: value}``: ``names[slot-1]`` when given, else ``input_<slot>``. Duplicates are refused."""

    out: dict[str, Any] = {}
    for slot, value in slots.items():
        given = names[slot - 1] if slot - 1 < len(names) else ""
        name = given or f"input_{slot}"
        if name in out:
            from .errors import BadInputError

            raise BadInputError(f"input_names gives the name {name!r} to two remote inputs; make the names unique")
        out[name] = value
    return out


__all__ = [
    "AUTOGROW_ID",
    "AUTOGROW_MIN_INPUTS",
    "MAX_INPUTS",
    "autogrow_flavour",
    "collect_slots",
    "parse_input_names",
    "remote_input_specs",
    "request_names",
    "slot_of",
]
