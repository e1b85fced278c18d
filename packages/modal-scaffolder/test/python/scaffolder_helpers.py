"""Shared helpers of the modal-scaffolder Python tests (paths, scaffolding, loading workflow.py)."""

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import uuid

import pytest

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE = HERE.parent.parent
REPO = PACKAGE.parent.parent
CLI = PACKAGE / "dist" / "cli.js"
FAKE_COMFY_CLI = REPO / "packages" / "io-helpers" / "dist" / "testing" / "cli.js"
PROMPT = PACKAGE / "test" / "fixtures" / "echo-prompt.json"
TOKEN = "test-token-" + "x" * 24
AUTH_HEADER = {"Authorization": "Bearer " + TOKEN}

sys.path.insert(0, str(PACKAGE / "python" / "local_modal"))  # the in-process modal that `serve` ships
sys.path.insert(0, str(HERE))


def _node_pack(tmp):
    built = PACKAGE / "dist" / "assets" / "nodepack"
    if (built / "__init__.py").is_file():
        return built
    # The node pack has not landed in this checkout: an empty package stands in (not node code).
    stand_in = tmp / "nodepack"
    (stand_in / "comfy_remote").mkdir(parents=True, exist_ok=True)
    (stand_in / "__init__.py").write_text("# stand-in: apps/comfyui-extension is not built here\n")
    (stand_in / "comfy_remote" / "__init__.py").write_text("")
    return stand_in


def scaffold(tmp, app_name, *extra):
    """Runs `comfy-remote-modal scaffold` and returns the project dir."""
    if not CLI.is_file() or shutil.which("node") is None:
        pytest.skip("build the package first (pnpm --filter @comfy-remote/modal-scaffolder build) and put node on PATH")
    out = tmp / "out"
    cmd = ["node", str(CLI), "scaffold", "--workflow", str(PROMPT), "--out", str(out), "--app-name", app_name, "--node-pack", str(_node_pack(tmp)), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return pathlib.Path(proc.stdout.strip().splitlines()[-1])


def load_workflow(project_dir, comfy_url, token=TOKEN, start=True):
    """Imports the generated workflow.py with the stub modal; its GPU worker talks to ``comfy_url``."""
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    name = "generated_workflow_" + uuid.uuid4().hex[:8]
    spec = importlib.util.spec_from_file_location(name, project_dir / "workflow.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if start:
        os.environ["COMFY_REMOTE_COMFYUI_URL"] = comfy_url
        try:
            module.ComfyWorker._container()  # stub: enter() runs now, with the URL above
        finally:
            del os.environ["COMFY_REMOTE_COMFYUI_URL"]
    if token is None:
        os.environ.pop("COMFY_REMOTE_TOKEN", None)
    else:
        os.environ["COMFY_REMOTE_TOKEN"] = token
    return module



def start_io_helpers_comfy(*args):
    """The io-helpers fake ComfyUI (HTTP + /ws, recorded behaviour) as a child process: (proc, url)."""
    if not FAKE_COMFY_CLI.is_file() or shutil.which("node") is None:
        pytest.skip("packages/io-helpers/dist/testing/cli.js not built")
    proc = subprocess.Popen(["node", str(FAKE_COMFY_CLI), "--port", "0", *args], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail("io-helpers fake ComfyUI did not start")
    return proc, json.loads(line)["url"]



def stop_process(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def npy_bytes(data, descr="|u1"):
    """A valid version-1 .npy file holding ``data`` as a 1-d array of ``descr`` (the workers read the header
    of every npy input before a job exists, so test payloads must be real .npy files)."""
    size = int(descr[-1]) if descr[-1].isdigit() else 1
    text = "{'descr': '%s', 'fortran_order': False, 'shape': (%d,), }" % (descr, len(data) // size)
    text += " " * ((64 - (10 + len(text) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1") + bytes(data)

