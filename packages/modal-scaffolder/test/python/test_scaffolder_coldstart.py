"""Cold start of the generated app (memory snapshots, warm-up) with the stub modal: the stub's snapshot
rules, the order of the GPU class's enter methods, the image steps, the ComfyUI patch and helper node."""

import asyncio
import json
import logging
import os
import sys
import types

import pytest

from scaffolder_fixtures import fake_comfy  # noqa: F401 - pytest fixture
from scaffolder_helpers import load_workflow, scaffold

import modal  # noqa: E402, I001 - the stub: scaffolder_helpers puts it first on sys.path


@pytest.fixture(scope="module")
def cpu_project(tmp_path_factory):
    return scaffold(tmp_path_factory.mktemp("snap-cpu"), "snap-cpu", "--memory-snapshot", "--warmup", "--startup-timeout", "1200")


@pytest.fixture(scope="module")
def gpu_project(tmp_path_factory):
    return scaffold(tmp_path_factory.mktemp("snap-gpu"), "snap-gpu", "--memory-snapshot", "--gpu-snapshot", "--warmup")


@pytest.fixture(scope="module")
def plain_project(tmp_path_factory):
    return scaffold(tmp_path_factory.mktemp("snap-none"), "snap-none")


class FakeProcess:
    """Stands in for the ComfyUI process the worker starts itself (start_comfyui)."""

    def poll(self):
        return None

    def terminate(self):
        pass


def own_comfyui(monkeypatch, module, url):
    """The worker starts "its own" ComfyUI: start_comfyui returns the fake ComfyUI's URL."""
    import comfy_runner

    monkeypatch.setattr(comfy_runner, "start_comfyui", lambda *a, **k: (FakeProcess(), url))
    monkeypatch.setattr(module, "volume_args", lambda: [])
    monkeypatch.delenv("COMFY_REMOTE_COMFYUI_URL", raising=False)


# --- the stub enforces Modal's rules -------------------------------------------------------------------


def test_stub_refuses_snap_enter_without_memory_snapshot():
    app = modal.App("stub-snap-rule")
    with pytest.raises(modal.exception.InvalidError, match="enable_memory_snapshot=True"):

        @app.cls()
        class Worker:
            @modal.enter(snap=True)
            def start(self):
                pass


def test_stub_runs_snap_enters_first_then_the_others_in_definition_order():
    app = modal.App("stub-snap-order")
    calls = []

    @app.cls(enable_memory_snapshot=True)
    class Worker:
        @modal.enter()
        def b_after(self):
            calls.append(("b_after", os.environ["MODAL_TASK_ID"]))

        @modal.enter(snap=True)
        def z_before(self):
            calls.append(("z_before", os.environ["MODAL_TASK_ID"]))

        @modal.enter(snap=False)
        def a_after(self):
            calls.append(("a_after", os.environ["MODAL_TASK_ID"]))

        @modal.method()
        def run(self):
            return [name for name, _ in calls]

    assert Worker().run.remote() == ["z_before", "b_after", "a_after"]
    assert Worker.enter_log == ["z_before", "b_after", "a_after"]
    assert len({task for _, task in calls}) == 1  # the container that takes the snapshot keeps its task


def test_stub_simulated_restore_changes_the_task_between_the_phases():
    app = modal.App("stub-snap-restore")
    seen = {}

    @app.cls(enable_memory_snapshot=True)
    class Worker:
        @modal.enter(snap=True)
        def before(self):
            seen["before"] = os.environ["MODAL_TASK_ID"]

        @modal.enter()
        def after(self):
            seen["after"] = os.environ["MODAL_TASK_ID"]

        @modal.method()
        def run(self):
            return seen

    Worker.simulate_restore = True
    result = Worker().run.remote()
    assert result["before"] != result["after"]


@pytest.mark.parametrize("options", [{"enable_memory_snapshot": "yes"}, {"experimental_options": ["enable_gpu_snapshot"]}])
def test_stub_checks_snapshot_option_types(options):
    with pytest.raises(modal.exception.InvalidError):
        modal.App("stub-snap-types").cls(**options)


# --- the generated GPU class -----------------------------------------------------------------------------


def test_cpu_snapshot_project_declares_snapshot_and_separate_timeouts(cpu_project, fake_comfy):  # noqa: F811
    module = load_workflow(cpu_project, fake_comfy.url)
    options = module.ComfyWorker.options
    assert options["enable_memory_snapshot"] is True
    assert options["experimental_options"] is None
    assert options["timeout"] == module.JOB_TIMEOUT_SECONDS == 3600
    assert options["startup_timeout"] == module.STARTUP_TIMEOUT_SECONDS == 1200
    assert module.ComfyWorker.enter_log == ["start", "ready"]


def test_gpu_snapshot_project_asks_for_gpu_snapshots(gpu_project, fake_comfy):  # noqa: F811
    module = load_workflow(gpu_project, fake_comfy.url)
    assert module.ComfyWorker.options["enable_memory_snapshot"] is True
    assert module.ComfyWorker.options["experimental_options"] == {"enable_gpu_snapshot": True}


def test_plain_project_has_no_snapshot_and_enters_in_order(plain_project, fake_comfy):  # noqa: F811
    module = load_workflow(plain_project, fake_comfy.url)
    assert module.ComfyWorker.options["enable_memory_snapshot"] is False
    assert module.ComfyWorker.enter_log == ["start", "ready"]
    assert fake_comfy.prompts == {}  # no warm-up unless asked


def test_a_snap_enter_without_the_class_option_fails_at_import(cpu_project, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in cpu_project.iterdir():
        if path.is_file():
            (broken / path.name).write_bytes(path.read_bytes())
    source = (broken / "workflow.py").read_text()
    assert "enable_memory_snapshot=MEMORY_SNAPSHOT," in source
    (broken / "workflow.py").write_text(source.replace("enable_memory_snapshot=MEMORY_SNAPSHOT,", "enable_memory_snapshot=False,"))
    with pytest.raises(modal.exception.InvalidError, match="snap=True"):
        load_workflow(broken, "http://127.0.0.1:9", start=False)


def test_cpu_snapshot_gives_comfyui_the_gpu_only_after_the_snapshot(cpu_project, fake_comfy, monkeypatch):  # noqa: F811
    module = load_workflow(cpu_project, fake_comfy.url, start=False)
    own_comfyui(monkeypatch, module, fake_comfy.url)
    import comfy_coldstart

    order = []  # (step, task): a restored container has a new MODAL_TASK_ID after the snapshot
    real_enable = comfy_coldstart.enable_cuda
    monkeypatch.setattr(comfy_coldstart, "enable_cuda", lambda url: order.append(("cuda", comfy_coldstart.task_id())) or real_enable(url))
    real_warm = comfy_coldstart.warm_up
    monkeypatch.setattr(comfy_coldstart, "warm_up", lambda *a: order.append(("warm-up", comfy_coldstart.task_id())) or real_warm(*a))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    module.ComfyWorker.simulate_restore = True
    worker = module.ComfyWorker._container()
    assert module.ComfyWorker.enter_log == ["start", "ready"]
    restored_task = comfy_coldstart.task_id()
    assert worker.snapshot_task != restored_task
    # both after the snapshot: a CPU snapshot is taken without a GPU
    assert order == [("cuda", restored_task), ("warm-up", restored_task)]
    assert fake_comfy.cuda_calls == [{"visible_devices": "0,1"}]
    assert len(fake_comfy.prompts) == 1  # the warm-up run
    assert worker.cold_start == {"cold": True, "restored": True}


def test_gpu_snapshot_warms_up_before_the_snapshot_and_needs_no_cuda_call(gpu_project, fake_comfy, monkeypatch):  # noqa: F811
    module = load_workflow(gpu_project, fake_comfy.url, start=False)
    own_comfyui(monkeypatch, module, fake_comfy.url)
    module.ComfyWorker.simulate_restore = True
    worker = module.ComfyWorker._container()
    assert fake_comfy.cuda_calls == []
    assert len(fake_comfy.prompts) == 1 and worker.warmed is True  # in start(): captured by the snapshot
    assert worker.cold_start == {"cold": True, "restored": True}


def test_a_failed_warm_up_is_logged_and_the_container_starts(cpu_project, fake_comfy, monkeypatch, caplog):  # noqa: F811
    module = load_workflow(cpu_project, fake_comfy.url, start=False)
    import comfy_runner

    def boom(self, *args, **kwargs):
        raise comfy_runner.JobFailed("COMFYUI_EXECUTION", "model file missing")

    monkeypatch.setattr(comfy_runner.JobRunner, "run", boom)
    monkeypatch.setenv("COMFY_REMOTE_COMFYUI_URL", fake_comfy.url)
    with caplog.at_level(logging.WARNING, logger="comfy_remote.coldstart"):
        worker = module.ComfyWorker._container()
    assert worker.warmed is False and worker.startup > 0
    assert "warm-up run failed" in caplog.text and "model file missing" in caplog.text


# --- warm-up inputs ------------------------------------------------------------------------------------


def test_warm_up_inputs_fill_required_simple_types_and_keep_defaults(cpu_project):
    sys.path.insert(0, str(cpu_project))
    import comfy_coldstart

    contract = {"inputs": [
        {"name": "image", "type": "IMAGE", "required": True},
        {"name": "steps", "type": "INT", "required": True},
        {"name": "label", "type": "STRING", "required": False, "default": "x"},
    ]}
    inputs, reason = comfy_coldstart.warmup_inputs(contract)
    assert reason is None and set(inputs) == {"image", "steps"}
    assert inputs["steps"] == {"type": "INT", "encoding": "json", "data": 0}
    png = __import__("base64").b64decode(inputs["image"]["data"])
    assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") == comfy_coldstart.WARMUP_IMAGE_SIDE
    inputs, reason = comfy_coldstart.warmup_inputs({"inputs": [{"name": "lat", "type": "LATENT", "required": True}]})
    assert inputs is None and "'lat'" in reason and "LATENT" in reason


# --- the ComfyUI patch of CPU snapshots ------------------------------------------------------------------

MODEL_MANAGEMENT = '''import torch
cpu_state = "GPU"

def get_torch_device():
    if cpu_state == "CPU":
        return torch.device("cpu")
    else:
        if False:
            pass
        else:
            return torch.device(torch.cuda.current_device())
'''


def fake_torch(available):
    cuda = types.SimpleNamespace(is_available=lambda: available, current_device=lambda: 0)
    return types.SimpleNamespace(cuda=cuda, device=lambda kind: ("device", kind))


def test_patch_makes_comfyui_fall_back_to_the_cpu_without_a_gpu(cpu_project, tmp_path):
    module = load_workflow(cpu_project, "http://127.0.0.1:9", start=False)
    (tmp_path / "comfy").mkdir()
    target = tmp_path / "comfy" / "model_management.py"
    target.write_text(MODEL_MANAGEMENT)
    module.patch_comfyui_for_cpu_snapshot(str(tmp_path))
    patched = target.read_text()
    module.patch_comfyui_for_cpu_snapshot(str(tmp_path))  # idempotent
    assert target.read_text() == patched
    for available, want in ((False, ("device", "cpu")), (True, ("device", 0))):
        scope = {}
        exec(compile(patched.replace("import torch\n", ""), str(target), "exec"), scope)  # noqa: S102 - our own test file
        scope["torch"] = fake_torch(available)
        assert scope["get_torch_device"]() == want


def test_patch_refuses_a_comfyui_it_does_not_know(cpu_project, tmp_path):
    module = load_workflow(cpu_project, "http://127.0.0.1:9", start=False)
    (tmp_path / "comfy").mkdir()
    (tmp_path / "comfy" / "model_management.py").write_text("def get_torch_device():\n    return None\n")
    with pytest.raises(RuntimeError, match="--gpu-snapshot"):
        module.patch_comfyui_for_cpu_snapshot(str(tmp_path))


def steps(image):
    return [(name, args) for name, args, _ in image.steps]


def test_only_cpu_snapshot_images_patch_comfyui_and_ship_the_helper_node(cpu_project, gpu_project, plain_project):
    def has(module):
        names = steps(module.image)
        patched = any(name == "run_function" and args[0] is module.patch_comfyui_for_cpu_snapshot for name, args in names)
        helper = any(name == "add_local_dir" and args[1].endswith("/custom_nodes/comfy_remote_snapshot") for name, args in names)
        return patched, helper

    assert has(load_workflow(cpu_project, "http://127.0.0.1:9", start=False)) == (True, True)
    assert has(load_workflow(gpu_project, "http://127.0.0.1:9", start=False)) == (False, False)
    assert has(load_workflow(plain_project, "http://127.0.0.1:9", start=False)) == (False, False)


# --- the helper node inside ComfyUI ----------------------------------------------------------------------


def load_helper_node(project, monkeypatch, torch_available):
    routes = {}
    server = types.ModuleType("server")
    server.PromptServer = types.SimpleNamespace(instance=types.SimpleNamespace(routes=types.SimpleNamespace(
        post=lambda path: lambda fn: routes.setdefault(path, fn))))
    web = types.SimpleNamespace(json_response=lambda body, status=200: (status, body))
    aiohttp = types.ModuleType("aiohttp")
    aiohttp.web = web
    torch = types.ModuleType("torch")
    torch.cuda = types.SimpleNamespace(is_available=lambda: torch_available, device_count=lambda: 2)
    for name, mod in (("server", server), ("aiohttp", aiohttp), ("aiohttp.web", web), ("torch", torch)):
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.delitem(sys.modules, "comfy.model_management", raising=False)
    path = project / "custom_nodes" / "comfy_remote_snapshot" / "__init__.py"
    exec(compile(path.read_text(), str(path), "exec"), {"__name__": "comfy_remote_snapshot"})  # noqa: S102 - the generated file
    return routes["/comfy_remote/snapshot/cuda"]


class Request:
    def __init__(self, body):
        self.body = body

    async def json(self):
        return self.body


def test_helper_node_sets_the_visible_gpus_and_reports_cuda(cpu_project, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    handler = load_helper_node(cpu_project, monkeypatch, torch_available=True)
    assert asyncio.run(handler(Request({"visible_devices": "0,1"}))) == (200, {"cuda": True, "devices": 2})
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"
    status, body = asyncio.run(handler(Request({"visible_devices": "0; rm -rf /"})))
    assert status == 400 and os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"
    handler = load_helper_node(cpu_project, monkeypatch, torch_available=False)
    assert asyncio.run(handler(Request({}))) == (200, {"cuda": False, "devices": 0})


def test_project_files_record_the_options(cpu_project, gpu_project):
    cpu = json.loads((cpu_project / "modal_config.json").read_text())["cold_start"]
    gpu = json.loads((gpu_project / "modal_config.json").read_text())["cold_start"]
    assert cpu == {"memory_snapshot": True, "gpu_snapshot": False, "warmup": True}
    assert gpu == {"memory_snapshot": True, "gpu_snapshot": True, "warmup": True}
