"""The pack loaded by each ComfyUI version's own loader (tests/stubs/comfy_loader.py): nodes and routes.

0.3.48 ... 0.13.x never call ``ComfyExtension.on_load()``; 0.14+ do. Either way the two
/comfy-remote routes must exist exactly once after ``PromptServer.add_routes()``.
"""

from __future__ import annotations

import asyncio
import sys
import types

import comfy_loader
import comfy_v3
import pytest
from conftest import PACK_DIR

ROUTES = [
    ("GET", "/comfy-remote/schema"),
    ("POST", "/comfy-remote/deploy"),
    ("POST", "/comfy-remote/files/release"),
    ("GET", "/comfy-remote/files/folder"),
    ("POST", "/comfy-remote/files/probe"),
]
NODE_IDS = {"ComfyRemoteInput", "ComfyRemoteOutput", "ComfyRemoteNode", "ComfyRemoteModalDeployment", "ComfyRemoteSelectOutput"}


@pytest.fixture
def aiohttp_web(monkeypatch):
    aiohttp = types.ModuleType("aiohttp")
    aiohttp.web = types.SimpleNamespace(json_response=lambda body, status=200: (body, status))
    monkeypatch.setitem(sys.modules, "aiohttp", aiohttp)


@pytest.mark.parametrize("flavour", comfy_v3.FLAVOURS)
def test_each_loader_registers_nodes_and_each_route_exactly_once(flavour, aiohttp_web):
    comfy_v3.install(flavour)
    try:
        server, result = comfy_loader.start_comfyui(PACK_DIR, flavour)
        assert result.errors == []
        assert set(result.node_class_mappings) == NODE_IDS
        assert result.display_names["ComfyRemoteNode"] == "Remote API"
        registered = [(r.method, r.path) for r in server.routes]
        for route in ROUTES:
            assert registered.count(route) == 1, (flavour, registered)
        for method, path in ROUTES:  # reachable the way the frontend calls them (api.fetchApi adds /api)
            assert (method, "/api" + path) in server.app.router
            assert (method, path) in server.app.router
    finally:
        comfy_v3.uninstall()


@pytest.mark.parametrize("flavour", comfy_v3.FLAVOURS)
def test_stand_in_loader_calls_on_load_only_where_comfyui_does(flavour, tmp_path):
    comfy_v3.install(flavour)
    try:
        (tmp_path / "__init__.py").write_text(
            "import comfy_api.latest as latest\n"
            "CALLS = []\n"
            "class Ext(latest.ComfyExtension):\n"
            "    async def on_load(self):\n"
            "        CALLS.append('on_load')\n"
            "    async def get_node_list(self):\n"
            "        CALLS.append('get_node_list')\n"
            "        return []\n"
            "async def comfy_entrypoint():\n"
            "    return Ext()\n"
        )
        result = asyncio.run(comfy_loader.load_custom_node(str(tmp_path), flavour, module_name="loader_probe"))
        assert result.errors == []
        calls = sys.modules["loader_probe"].CALLS
        expected = ["on_load", "get_node_list"] if flavour == "0.26" else ["get_node_list"]
        assert calls == expected
    finally:
        comfy_v3.uninstall()
        sys.modules.pop("loader_probe", None)


def test_routes_are_registered_once_when_on_load_runs_after_import(aiohttp_web):
    comfy_v3.install("0.26")
    try:
        server, _ = comfy_loader.start_comfyui(PACK_DIR, "0.26")
        ext = asyncio.run(sys.modules["comfy_remote_pack_loaded"].comfy_entrypoint())
        asyncio.run(ext.on_load())  # a second on_load (another loader path) adds nothing
        assert [(r.method, r.path) for r in server.routes] == ROUTES
    finally:
        comfy_v3.uninstall()


def test_routes_come_from_on_load_when_there_is_no_server_at_import(aiohttp_web):
    comfy_v3.install("0.26")
    try:
        server_mod = sys.modules["server"]
        server = server_mod.PromptServer.instance
        server_mod.PromptServer.instance = None  # e.g. a tool importing the pack before the server exists
        result = asyncio.run(comfy_loader.load_custom_node(PACK_DIR, "0.3.64"))
        assert list(server.routes) == []
        server_mod.PromptServer.instance = server
        ext = asyncio.run(sys.modules["comfy_remote_pack_loaded"].comfy_entrypoint())
        asyncio.run(ext.on_load())
        assert result.errors == []
        assert [(r.method, r.path) for r in server.routes] == ROUTES
    finally:
        comfy_v3.uninstall()


def test_routes_come_from_get_node_list_on_loaders_without_on_load(aiohttp_web):
    comfy_v3.install("0.3.64")
    try:
        server_mod = sys.modules["server"]
        server = server_mod.PromptServer.instance
        server_mod.PromptServer.instance = None
        result = asyncio.run(comfy_loader.load_custom_node(PACK_DIR, "0.3.64"))  # import + get_node_list
        assert result.errors == [] and list(server.routes) == []
        server_mod.PromptServer.instance = server
        ext = asyncio.run(sys.modules["comfy_remote_pack_loaded"].comfy_entrypoint())
        asyncio.run(ext.get_node_list())  # what 0.3.64 calls (it never calls on_load)
        asyncio.run(ext.get_node_list())
        assert [(r.method, r.path) for r in server.routes] == ROUTES
    finally:
        comfy_v3.uninstall()
