"""ComfyUI server routes used by the pack's frontend (registered only when PromptServer exists).

- ``GET /comfy-remote/schema?url=<endpoint>[&token=]`` -> ``{"schema": {inputs, outputs, transports}}``
  or ``{"error": {code, message}}`` with a 4xx/5xx status.
- ``POST /comfy-remote/deploy`` ``{workflow, appName, gpu, pipPackages, aptPackages, dryRun,
  cleanBuild, forceRebuild, deploy, models, modelsSecret, volume, memorySnapshot, gpuSnapshot, warmup,
  startupTimeoutSeconds}`` -> ``{"deployId"}`` at once; then websocket messages
  ``comfy-remote.deploy`` ``{deployId, event: log|progress|result|error, ...}``.

- ``POST /comfy-remote/files/release`` ``{"files": [{filename, subfolder, type}]}`` -> ``{"released": n}``:
  a worker deletes the Remote Output files (``temp/comfy_remote/cr-out-*``) it has read.
- ``GET /comfy-remote/files/folder`` -> ``{"folder": "<real path of temp/comfy_remote>"}`` and
  ``POST /comfy-remote/files/probe`` ``{"filename": "cr-probe-<hex>", "token"}`` -> ``{"shared": bool, "spares": true}``:
  a worker on the same machine writes the probe file there; when ComfyUI reads the same token, the
  worker places input files and takes Remote Output files in that folder itself (no upload, no /view).

Deploying runs ``modal`` on this machine, so it is refused for callers that are not on
loopback unless ``COMFY_REMOTE_ALLOW_REMOTE_DEPLOY=1``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import uuid
from typing import Any

from . import comfy_files
from .bridge import call_bridge
from .deploy import build_deploy_request
from .errors import BadInputError, ComfyRemoteError
from .remote_call import check_url, resolve_token

logger = logging.getLogger(__name__)

DEPLOY_EVENT = "comfy-remote.deploy"
REMOTE_DEPLOY_ENV = "COMFY_REMOTE_ALLOW_REMOTE_DEPLOY"
_STATUS = {
    "BAD_REQUEST": 400,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "TIMEOUT": 504,
    "NODE_NOT_FOUND": 500,
    "NODE_TOO_OLD": 500,
    "BRIDGE_MISSING": 500,
}


def error_body(exc: BaseException) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, ComfyRemoteError):
        return _STATUS.get(exc.code, 502), {"error": {"code": exc.code, "message": str(exc.args[0])}}
    return 500, {"error": {"code": "INTERNAL", "message": str(exc)}}


def schema_request(query: dict[str, str]) -> dict[str, Any]:
    url = check_url(query.get("url"), "url query parameter")
    return {"op": "schema", "url": url, "token": resolve_token(query.get("token"))}


def _strings(value: Any, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    raise BadInputError(f"{field} must be a list of strings")


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise BadInputError(f"{field} must be a string (or null)")


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise BadInputError(f"{field} must be true or false")


def _seconds(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise BadInputError(f"{field} must be a whole number of seconds (10..3600)")


def deploy_request_from_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadInputError("the body must be a JSON object {workflow, appName, gpu, ...}")
    workflow = body.get("workflow")
    if not isinstance(workflow, dict) or not workflow:
        raise BadInputError("workflow must be the current graph in API format (an object of nodes)")
    return build_deploy_request(
        app_name=str(body.get("appName") or "comfy-remote"),
        working_directory=str(body.get("workingDirectory") or ""),
        extra_pip_requirements=_strings(body.get("pipPackages"), "pipPackages"),
        extra_system_packages=_strings(body.get("aptPackages"), "aptPackages"),
        gpu_type=str(body.get("gpu") or ""),
        deploy=bool(body.get("deploy", True)),
        dry_run=bool(body.get("dryRun", False)),
        clean_build=bool(body.get("cleanBuild", False)),
        rebuild_modal_app=bool(body.get("forceRebuild", False)),
        delete_modal_app=bool(body.get("deleteApp", False)),
        models=_strings(body.get("models"), "models"),
        models_secret=_text(body.get("modelsSecret"), "modelsSecret"),
        volume=_text(body.get("volume"), "volume"),
        memory_snapshot=_flag(body.get("memorySnapshot"), "memorySnapshot"),
        gpu_snapshot=_flag(body.get("gpuSnapshot"), "gpuSnapshot"),
        warmup=_flag(body.get("warmup"), "warmup"),
        startup_timeout=_seconds(body.get("startupTimeoutSeconds"), "startupTimeoutSeconds"),
        current_prompt=workflow,
    )


def run_deploy_job(deploy_id: str, request: dict[str, Any], send: Any) -> None:
    """Runs in a thread: bridge events -> ``send(DEPLOY_EVENT, {...})``."""

    def forward(event: dict[str, Any]) -> None:
        if event.get("event") in ("log", "progress", "status"):
            send(DEPLOY_EVENT, {"deployId": deploy_id, **event})

    try:
        result = call_bridge(request, on_event=forward, hard_timeout=3600)
        send(DEPLOY_EVENT, {"deployId": deploy_id, **result, "event": "result"})
    except Exception as exc:  # every failure reaches the dialog
        _status, body = error_body(exc)
        send(DEPLOY_EVENT, {"deployId": deploy_id, "event": "error", **body["error"]})


def _is_loopback(remote: str | None) -> bool:
    return remote in ("127.0.0.1", "::1", "localhost") or (remote or "").startswith("127.")


def register_routes(server: Any) -> bool:
    """Adds the routes to ``server.routes`` once. Returns False when there is no server."""

    if server is None or not hasattr(server, "routes"):
        return False
    if getattr(server, "_comfy_remote_routes", False):
        return True
    from aiohttp import web  # ComfyUI's server dependency

    routes = server.routes

    @routes.get("/comfy-remote/schema")
    async def get_schema(request: Any) -> Any:
        try:
            bridge_request = schema_request(dict(request.query))
            result = await asyncio.to_thread(call_bridge, bridge_request, hard_timeout=120)
        except Exception as exc:
            status, body = error_body(exc)
            return web.json_response(body, status=status)
        return web.json_response({"schema": result.get("schema")})

    @routes.post("/comfy-remote/deploy")
    async def post_deploy(request: Any) -> Any:
        if not _is_loopback(request.remote) and os.environ.get(REMOTE_DEPLOY_ENV) != "1":
            body = {"error": {"code": "FORBIDDEN", "message": f"deploying is only allowed from this machine; set {REMOTE_DEPLOY_ENV}=1 to allow it"}}
            return web.json_response(body, status=403)
        try:
            bridge_request = deploy_request_from_body(await request.json())
        except ValueError as exc:
            return web.json_response({"error": {"code": "BAD_REQUEST", "message": f"body is not JSON: {exc}"}}, status=400)
        except Exception as exc:
            status, body = error_body(exc)
            return web.json_response(body, status=status)
        deploy_id = uuid.uuid4().hex
        threading.Thread(target=run_deploy_job, args=(deploy_id, bridge_request, server.send_sync), daemon=True).start()
        return web.json_response({"deployId": deploy_id})

    @routes.post("/comfy-remote/files/release")
    async def post_release(request: Any) -> Any:
        try:
            body = await request.json()
            files = body.get("files") if isinstance(body, dict) else None
            released = comfy_files.release(files)
        except ValueError as exc:
            return web.json_response({"error": {"code": "BAD_REQUEST", "message": f"body is not JSON: {exc}"}}, status=400)
        except ComfyRemoteError as exc:
            return web.json_response({"error": {"code": exc.code, "message": str(exc.args[0])}}, status=400)
        return web.json_response({"released": released})

    @routes.get("/comfy-remote/files/folder")
    async def get_folder(request: Any) -> Any:
        folder = comfy_files.shared_folder()
        if folder is None:
            return web.json_response({"error": {"code": "NOT_FOUND", "message": "ComfyUI's temp folder is unknown"}}, status=404)
        return web.json_response({"folder": folder})

    @routes.post("/comfy-remote/files/probe")
    async def post_probe(request: Any) -> Any:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("not an object")
            shared = comfy_files.check_probe(body.get("filename"), body.get("token"))
        except ValueError as exc:
            return web.json_response({"error": {"code": "BAD_REQUEST", "message": f"body is not a JSON object: {exc}"}}, status=400)
        except ComfyRemoteError as exc:
            return web.json_response({"error": {"code": exc.code, "message": str(exc.args[0])}}, status=400)
        # spares: Remote Output writes over files a worker hands back (comfy_files.SPARE_PREFIX)
        return web.json_response({"shared": shared, "spares": True})

    server._comfy_remote_routes = True
    return True


__all__ = ["DEPLOY_EVENT", "deploy_request_from_body", "error_body", "register_routes", "run_deploy_job", "schema_request"]
