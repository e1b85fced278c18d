"""The pack README's input tables list each node's inputs in the order ComfyUI saves widget values:
the schema's ``input_order`` (required first, then optional), as ``GET_NODE_INFO_V1`` reports it."""

from __future__ import annotations

import os
import re

import comfy_v3
import pytest
from conftest import PACK_DIR, REPO_DIR, reload_pack

SECTION = re.compile(r"^### .*\(`(ComfyRemote\w+)`", re.M)
ROW_NAME = re.compile(r"^\|\s*(?:\*new\*\s*)?`([a-z_]+)`")


def documented_orders(text: str) -> dict[str, list[str]]:
    """Node id -> input names in table order, for each `### Name (`NodeId`...)` section of a README."""

    orders: dict[str, list[str]] = {}
    matches = list(SECTION.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        following = text.find("\n## ", m.end())  # a section ends at the next heading of either level
        end = min(end, following) if following != -1 else end
        names = []
        for line in text[m.end() : end].splitlines():
            row = ROW_NAME.match(line)
            if row:
                names.append(row.group(1))
        orders[m.group(1)] = names
    return orders


def guide_orders(text: str) -> dict[str, list[str]]:
    """Node id -> names in the guide's one-line 'inputs (widget order)' cells."""

    orders = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and re.fullmatch(r"`ComfyRemote\w+`.*", cells[2]):
            node_id = re.match(r"`(\w+)`", cells[2]).group(1)
            # a cell lists `name` entries, each maybe followed by a parenthesised note
            orders[node_id] = re.findall(r"(?:^|, )`([a-z_]+)`", cells[3])
    return orders


@pytest.fixture
def schema_orders():
    comfy_v3.install("0.26")
    try:
        reload_pack()
        from comfy_remote.extension import node_class_mappings

        out = {}
        for node_id, cls in node_class_mappings().items():
            order = cls.GET_NODE_INFO_V1()["input_order"]
            out[node_id] = list(order.get("required", [])) + list(order.get("optional", []))
        yield out
    finally:
        comfy_v3.uninstall()
        reload_pack()


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_pack_readme_tables_follow_the_schema_order(schema_orders):
    docs = documented_orders(_read(os.path.join(PACK_DIR, "README.md")))
    assert set(docs) >= {"ComfyRemoteInput", "ComfyRemoteOutput", "ComfyRemoteNode", "ComfyRemoteModalDeployment"}
    for node_id, names in docs.items():
        schema = schema_orders[node_id]
        if not names:  # a section without an input table (e.g. described in prose)
            continue
        assert set(names) <= set(schema), (node_id, set(names) - set(schema))
        assert names == [n for n in schema if n in names], f"{node_id}: README {names} != schema {schema}"
    assert docs["ComfyRemoteModalDeployment"] == schema_orders["ComfyRemoteModalDeployment"]


def test_guide_table_follows_the_schema_order(schema_orders):
    docs = guide_orders(_read(os.path.join(REPO_DIR, "docs", "guides", "comfyui.md")))
    assert "ComfyRemoteModalDeployment" in docs
    for node_id, names in docs.items():
        schema = schema_orders[node_id]
        known = [n for n in names if n in schema]
        assert known == [n for n in schema if n in known], f"{node_id}: guide {names} != schema {schema}"
