"""pytest fixtures (imported by each test module; no conftest.py, so the name `conftest`
stays free for other suites run in the same pytest process): a scaffolded project (through the real CLI), the modal stub, fake ComfyUI servers."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from scaffolder_helpers import scaffold, start_io_helpers_comfy, stop_process  # noqa: E402


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    return scaffold(tmp_path_factory.mktemp("proj"), "pytest-app")


@pytest.fixture(scope="session")
def open_project(tmp_path_factory):
    return scaffold(tmp_path_factory.mktemp("proj-open"), "pytest-open", "--auth", "none")


@pytest.fixture()
def modules(project):
    """The project's runtime modules (comfy_wire, comfy_runner) importable."""
    if str(project) not in sys.path:
        sys.path.insert(0, str(project))
    import comfy_runner
    import comfy_wire

    return comfy_wire, comfy_runner


@pytest.fixture()
def fake_comfy():
    from scaffolder_fake_comfy import FakeComfy

    with FakeComfy() as fake:
        yield fake


@pytest.fixture()
def slow_fake_comfy():
    from scaffolder_fake_comfy import FakeComfy

    with FakeComfy(delay=20.0) as fake:
        yield fake


@pytest.fixture(scope="session")
def io_helpers_comfy():
    proc, url = start_io_helpers_comfy("--progress-steps", "3", "--step-delay-ms", "20")
    yield url
    stop_process(proc)


@pytest.fixture(scope="session")
def slow_io_helpers_comfy():
    proc, url = start_io_helpers_comfy("--progress-steps", "30", "--step-delay-ms", "100")
    yield url
    stop_process(proc)
