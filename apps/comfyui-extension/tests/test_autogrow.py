"""Remote API slot names of every ComfyUI flavour map to the same request names."""

from __future__ import annotations

import pytest

from comfy_remote.autogrow import collect_slots, parse_input_names, request_names, slot_of
from comfy_remote.errors import BadInputError


@pytest.mark.parametrize(
    ("name", "slot"),
    [
        ("input_1_$remote_inputs_ag$", 1),
        ("input_8_$remote_inputs_ag$", 8),
        ("remote_inputs.input0", 1),
        ("remote_inputs.input7", 8),
        ("input_3", 3),
        ("url", None),
        ("input_names", None),
        ("input_1_$other_ag$", None),
    ],
)
def test_slot_of(name, slot):
    assert slot_of(name) == slot


def test_all_three_forms_give_the_same_request():
    a, b = object(), object()
    forms = [
        {"input_1_$remote_inputs_ag$": a, "input_3_$remote_inputs_ag$": b, "input_2_$remote_inputs_ag$": None},
        {"remote_inputs": {"input0": a, "input2": b}},
        {"remote_inputs.input0": a, "remote_inputs.input2": b},
        {"input_1": a, "input_3": b},
    ]
    for kwargs in forms:
        assert collect_slots(kwargs) == {1: a, 3: b}
        assert request_names(collect_slots(kwargs), []) == {"input_1": a, "input_3": b}
        assert request_names(collect_slots(kwargs), ["image", "", "seed"]) == {"image": a, "seed": b}


def test_input_names_parsing_and_duplicates():
    assert parse_input_names("image, seed\nprompt") == ["image", "seed", "prompt"]
    assert parse_input_names('["a,b", "c"]') == ["a,b", "c"]
    assert parse_input_names("  ") == []
    with pytest.raises(BadInputError, match="unique"):
        request_names({1: 1, 2: 2}, ["x", "x"])


def test_one_slot_connected_twice_is_a_clear_error_not_a_dropped_value():
    # a 0.3.6x workflow on 0.26: the old input_1 slot still linked, and the native remote_inputs.input0 too
    kwargs = {"remote_inputs": {"input0": object()}, "input_1_$remote_inputs_ag$": object()}
    with pytest.raises(BadInputError, match=r"remote input 1 is connected twice \(remote_inputs\.input0 and input_1_\$remote_inputs_ag\$\)"):
        collect_slots(kwargs)
    # different positions from both forms are fine
    a, b = object(), object()
    assert collect_slots({"remote_inputs": {"input1": b}, "input_1_$remote_inputs_ag$": a}) == {1: a, 2: b}
