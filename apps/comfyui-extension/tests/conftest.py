"""pytest setup: the pack dir on sys.path, the ``torch`` marker, ComfyUI stand-in fixtures."""

from __future__ import annotations

import importlib
import os
import sys

import pytest

PACK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(os.path.dirname(PACK_DIR))
for path in (PACK_DIR, os.path.join(TESTS_DIR, "stubs")):
    if path not in sys.path:
        sys.path.insert(0, path)

import comfy_v3  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "torch: needs torch (run under Debian's /usr/bin/python3 with python3-torch)")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    try:
        import torch  # noqa: F401

        return
    except Exception:
        pass
    skip = pytest.mark.skip(reason="torch is not importable in this Python; run these under /usr/bin/python3")
    for item in items:
        if "torch" in item.keywords:
            item.add_marker(skip)


def reload_pack():
    """Re-import comfy_remote so its node base class follows the installed ComfyUI stand-in."""

    for name in list(sys.modules):
        if name.startswith(("comfy_remote.nodes", "comfy_remote.extension")):
            del sys.modules[name]
    return importlib.import_module("comfy_remote.nodes")


@pytest.fixture(params=comfy_v3.FLAVOURS)
def comfy(request):
    """Each ComfyUI flavour in turn: ``(flavour, recorder, comfy_remote.nodes)``."""

    rec = comfy_v3.install(request.param)
    nodes = reload_pack()
    yield request.param, rec, nodes
    comfy_v3.uninstall()
    reload_pack()


@pytest.fixture
def no_comfy():
    comfy_v3.uninstall()
    return reload_pack()


@pytest.fixture
def fake_bridge(monkeypatch):
    """Points the pack at tests/fake_bridge.mjs (speaks the bridge contract, no TS build needed)."""

    monkeypatch.setenv("COMFY_REMOTE_BRIDGE", os.path.join(TESTS_DIR, "fake_bridge.mjs"))
    return os.path.join(TESTS_DIR, "fake_bridge.mjs")


def as_np(value):
    """A decoded tensor as a NumPy array (torch tensors included; bfloat16 widened to float32)."""

    import numpy as np

    if hasattr(value, "detach"):
        t = value.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":
            t = t.float()
        return t.numpy()
    return np.asarray(value)


@pytest.fixture(autouse=True)
def fresh_persistent_bridge():
    """Every test starts without a persistent bridge (it would keep the env and bridge of an earlier test)."""

    from comfy_remote import bridge_server

    bridge_server.shutdown()
    yield
    bridge_server.shutdown()
