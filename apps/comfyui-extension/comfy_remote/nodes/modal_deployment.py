"""Modal Deployment (``ComfyRemoteModalDeployment``): workflow -> Modal app -> endpoint URL."""

from __future__ import annotations

import logging
from typing import Any

from ..comfy_runtime import NodeReporter
from ..deploy import DEFAULT_STARTUP_TIMEOUT, build_deploy_request, run_deploy
from ..errors import CancelledError
from ..remote_call import report_progress
from ..schemas import modal_deployment_schema
from .base import NodeBase, hidden_value, io, node_output

logger = logging.getLogger(__name__)


def deploy_event_handler(reporter: Any):
    def handle(event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "log" and event.get("message"):
            reporter.text(str(event["message"]))
        elif kind == "progress":
            report_progress(reporter, event)

    return handle


class ModalDeploymentNode(NodeBase):
    @classmethod
    def define_schema(cls) -> Any:
        return modal_deployment_schema(io)

    @classmethod
    def fingerprint_inputs(cls, **kwargs: Any) -> Any:
        # deploying is a side effect: run every time the user queues it
        return float("nan")

    @classmethod
    def execute(
        cls,
        workflow_path: str = "",
        deploy: bool = True,
        app_name: str = "comfy-remote",
        working_directory: str = "",
        extra_pip_requirements: str = "",
        extra_system_packages: str = "",
        gpu_type: str = "",
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
        startup_timeout: int = DEFAULT_STARTUP_TIMEOUT,
    ) -> Any:
        node_id = hidden_value(cls, "unique_id")
        prompt = hidden_value(cls, "prompt")
        request = build_deploy_request(
            workflow_path=workflow_path,
            app_name=app_name,
            working_directory=working_directory,
            extra_pip_requirements=extra_pip_requirements,
            extra_system_packages=extra_system_packages,
            gpu_type=gpu_type,
            deploy=deploy,
            dry_run=dry_run,
            clean_build=clean_build,
            rebuild_modal_app=rebuild_modal_app,
            delete_modal_app=delete_modal_app,
            models=models,
            models_secret=models_secret,
            volume=volume,
            memory_snapshot=memory_snapshot,
            gpu_snapshot=gpu_snapshot,
            warmup=warmup,
            startup_timeout=startup_timeout,
            current_prompt=prompt if isinstance(prompt, dict) else None,
        )
        reporter = NodeReporter(None if node_id is None else str(node_id))
        try:
            result = run_deploy(request, on_event=deploy_event_handler(reporter), should_cancel=reporter.should_cancel)
        except CancelledError:
            reporter.raise_interrupt()
            raise
        if result.dry_run or not result.live:
            reporter.text(f"DRY RUN / not deployed: {result.url} is a placeholder, not a live endpoint. Project: {result.project_dir}")
        else:
            reporter.text(f"deployed: {result.url}")
        reporter.progress(1.0, 1.0)
        ui = {"text": [result.url], "project_dir": [result.project_dir], "live": [result.live]}
        return node_output(result.url, result.project_dir, ui=ui)


__all__ = ["ModalDeploymentNode", "deploy_event_handler"]
