"""Modal Deployment, without ComfyUI: widget values -> bridge ``deploy`` request -> URL.

The workflow comes from ``workflow_path`` (an API-format prompt JSON file) or,
when that is blank, from the graph being executed (the calling prompt without
its Modal Deployment nodes).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable

from .bridge import call_bridge
from .errors import BadInputError
from .schemas import DEPLOY_ID

DEFAULT_GPU = "H100"
DEFAULT_STARTUP_TIMEOUT = 900  # seconds; the scaffolder's default (timeouts.startup_seconds)
_APP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


@dataclass
class DeployResult:
    url: str
    project_dir: str
    dry_run: bool
    live: bool


def split_packages(text: str | None) -> list[str]:
    """Comma- or newline-separated package list (blank entries dropped)."""

    return [p.strip() for p in re.split(r"[,\n]", text or "") if p.strip()]


def split_model_specs(text: str | None) -> list[str]:
    """One model spec per line; blank lines and ``#`` comments dropped (the bridge validates the specs)."""

    specs = []
    for line in (text or "").splitlines():
        spec = line.strip()
        if spec and not spec.startswith("#"):
            specs.append(spec)
    return specs


def strip_deploy_nodes(prompt: dict[str, Any]) -> dict[str, Any]:
    """The API prompt without Modal Deployment nodes (they must not run remotely)."""

    return {
        nid: node
        for nid, node in prompt.items()
        if not (isinstance(node, dict) and node.get("class_type") == DEPLOY_ID)
    }


def build_deploy_request(
    *,
    workflow_path: str = "",
    app_name: str = "comfy-remote",
    working_directory: str = "",
    extra_pip_requirements: str = "",
    extra_system_packages: str = "",
    gpu_type: str = "",
    deploy: bool = True,
    dry_run: bool = False,
    clean_build: bool = False,
    rebuild_modal_app: bool = False,
    delete_modal_app: bool = False,
    models: str = "",
    models_secret: str = "",
    volume: str = "",
    memory_snapshot: bool = False,
    gpu_snapshot: bool = False,
    warmup: bool = False,
    startup_timeout: int | None = None,
    current_prompt: dict[str, Any] | None = None,
) -> dict[str, Any]:
    name = (app_name or "").strip() or "comfy-remote"
    if not _APP_NAME.match(name):
        raise BadInputError(
            f"app_name {name!r} is not a valid Modal app name; use letters, digits, '-' and '_' (max 63 characters)"
        )
    path = (workflow_path or "").strip()
    workflow: dict[str, Any] | None = None
    if path:
        path = os.path.abspath(os.path.expanduser(path))
        if not os.path.isfile(path):
            raise BadInputError(f"workflow_path {path!r} does not exist; give an API-format workflow JSON file")
    elif current_prompt:
        workflow = strip_deploy_nodes(current_prompt)
    else:
        raise BadInputError("workflow_path is empty and no current graph is available; give an API-format workflow JSON file")
    work = (working_directory or "").strip()
    if gpu_snapshot and not memory_snapshot:
        raise BadInputError("gpu_snapshot needs memory_snapshot: GPU snapshots build on memory snapshots; turn on Memory Snapshot too, or turn GPU Snapshot off")
    timeout = DEFAULT_STARTUP_TIMEOUT if startup_timeout is None else startup_timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 10 <= timeout <= 3600:
        raise BadInputError(f"startup_timeout must be a whole number of seconds in 10..3600, got {startup_timeout!r}")
    return {
        "op": "deploy",
        "workflow": workflow,
        "workflowPath": path or None,
        "appName": name,
        "workingDirectory": os.path.abspath(os.path.expanduser(work)) if work else None,
        "pipPackages": split_packages(extra_pip_requirements),
        "aptPackages": split_packages(extra_system_packages),
        "gpu": (gpu_type or "").strip() or DEFAULT_GPU,
        "deploy": bool(deploy),
        "dryRun": bool(dry_run),
        "cleanBuild": bool(clean_build),
        "forceRebuild": bool(rebuild_modal_app),
        "deleteApp": bool(delete_modal_app),
        "models": split_model_specs(models),
        "modelsSecret": (models_secret or "").strip() or None,
        "volume": (volume or "").strip() or None,
        "memorySnapshot": bool(memory_snapshot),
        "gpuSnapshot": bool(gpu_snapshot),
        "warmup": bool(warmup),
        "startupTimeoutSeconds": timeout,
    }


def run_deploy(
    request: dict[str, Any],
    *,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    hard_timeout: float | None = 3600.0,
) -> DeployResult:
    event = call_bridge(request, on_event=on_event, should_cancel=should_cancel, hard_timeout=hard_timeout)
    return DeployResult(
        url=str(event.get("url") or ""),
        project_dir=str(event.get("projectDir") or ""),
        dry_run=bool(event.get("dryRun")),
        live=bool(event.get("live")),
    )


__all__ = ["DEFAULT_GPU", "DEFAULT_STARTUP_TIMEOUT", "DeployResult", "build_deploy_request", "run_deploy", "split_model_specs", "split_packages", "strip_deploy_nodes"]
