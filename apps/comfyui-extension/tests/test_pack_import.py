"""The pack folder loads the way ComfyUI loads custom nodes (module from <pack>/__init__.py)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys

import comfy_v3
import pytest
from conftest import PACK_DIR


def _load_pack(name="comfy_remote_pack_under_test"):
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]
    spec = importlib.util.spec_from_file_location(name, os.path.join(PACK_DIR, "__init__.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("flavour", comfy_v3.FLAVOURS)
def test_pack_registers_with_comfy_entrypoint_and_routes(flavour, monkeypatch):
    import types

    rec = comfy_v3.install(flavour)
    try:
        aiohttp = types.ModuleType("aiohttp")
        aiohttp.web = types.SimpleNamespace(json_response=lambda body, status=200: (body, status))
        monkeypatch.setitem(sys.modules, "aiohttp", aiohttp)
        server = sys.modules["server"].PromptServer.instance
        added = []
        server.routes = types.SimpleNamespace(
            get=lambda path: lambda fn: added.append(("GET", path)),
            post=lambda path: lambda fn: added.append(("POST", path)),
        )
        pack = _load_pack()
        assert pack.WEB_DIRECTORY == "./web"
        assert not hasattr(pack, "NODE_CLASS_MAPPINGS")  # V3 entrypoint only, so ComfyUI uses it
        ext = asyncio.run(pack.comfy_entrypoint())
        asyncio.run(ext.on_load())
        nodes = asyncio.run(ext.get_node_list())
        assert {n.GET_NODE_INFO_V1()["name"] for n in nodes} >= {
            "ComfyRemoteInput",
            "ComfyRemoteOutput",
            "ComfyRemoteNode",
            "ComfyRemoteModalDeployment",
        }
        assert added == [
            ("GET", "/comfy-remote/schema"),
            ("POST", "/comfy-remote/deploy"),
            ("POST", "/comfy-remote/files/release"),
            ("GET", "/comfy-remote/files/folder"),
            ("POST", "/comfy-remote/files/probe"),
        ]
        assert rec.calls == []
    finally:
        comfy_v3.uninstall()


def test_pack_without_comfyui_registers_nothing_and_does_not_crash():
    comfy_v3.uninstall()
    pack = _load_pack()
    assert pack.NODE_CLASS_MAPPINGS == {}
    assert not hasattr(pack, "comfy_entrypoint")  # (a None entrypoint would make ComfyUI skip the mappings)


def test_pure_modules_do_not_import_comfyui():
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import comfy_remote.codec, comfy_remote.registry, comfy_remote.autogrow, comfy_remote.bridge\n"
        "import comfy_remote.remote_call, comfy_remote.deploy\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('comfy', 'comfy_api', 'server', 'aiohttp')]\n"
        "assert not bad, bad\n"
    ) % PACK_DIR
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_pack_without_comfy_extension_uses_class_mappings(monkeypatch):
    import types

    comfy_v3.install("0.3.64")
    try:
        monkeypatch.delattr(sys.modules["comfy_api.latest"], "ComfyExtension")
        server = sys.modules["server"].PromptServer.instance
        server.routes = types.SimpleNamespace(get=lambda p: lambda fn: fn, post=lambda p: lambda fn: fn)
        aiohttp = types.ModuleType("aiohttp")
        aiohttp.web = types.SimpleNamespace(json_response=lambda body, status=200: (body, status))
        monkeypatch.setitem(sys.modules, "aiohttp", aiohttp)
        pack = _load_pack()
        assert not hasattr(pack, "comfy_entrypoint")
        assert sorted(pack.NODE_CLASS_MAPPINGS) == sorted(
            [
                "ComfyRemoteInput",
                "ComfyRemoteOutput",
                "ComfyRemoteNode",
                "ComfyRemoteModalDeployment",
                "ComfyRemoteSelectOutput",
            ]
        )
        assert pack.NODE_DISPLAY_NAME_MAPPINGS["ComfyRemoteNode"] == "Remote API"
        info = pack.NODE_CLASS_MAPPINGS["ComfyRemoteNode"].GET_NODE_INFO_V1()
        assert info["input_order"]["required"] == ["url", "input_1_$remote_inputs_ag$"]
        assert getattr(server, "_comfy_remote_routes", False) is True
    finally:
        comfy_v3.uninstall()
