"""ComfyUI's custom-node loading, per version, written from ComfyUI's ``nodes.py`` and ``main.py``.

``main.py`` (0.3.48, 0.3.64, 0.26.0 alike): ``PromptServer(loop)`` (which sets ``PromptServer.instance``
and ``self.routes = web.RouteTableDef()``), then ``nodes.init_extra_nodes()`` (imports every custom node
pack through ``load_custom_node``), then ``prompt_server.add_routes()`` (copies ``self.routes`` into the
aiohttp app, once with and once without the ``/api`` prefix). Routes a pack adds later never exist.

``nodes.load_custom_node`` after ``exec_module``:

1. a pack with ``NODE_CLASS_MAPPINGS`` (not None) is a V1 pack: its mappings are used and
   ``comfy_entrypoint`` is NOT looked at;
2. else ``comfy_entrypoint`` (sync or async) must return a ``ComfyExtension``; then
   - 0.3.48 ... 0.13.x (flavours ``"fixed"``, ``"0.3.64"``): ``await extension.get_node_list()`` only,
     ``on_load()`` is NEVER called;
   - 0.14.0 and later (flavour ``"0.26"``, read at 0.26.0): ``await extension.on_load()``, then
     ``await extension.get_node_list()``;
3. an exception in any of it is logged and the pack is skipped (ComfyUI keeps starting).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import os
import sys
from typing import Any

# ComfyUI versions whose loader calls ``on_load()`` (0.14.0 added it, "Node Replacement API" #12014).
CALLS_ON_LOAD = {"fixed": False, "0.3.64": False, "0.26": True}


class RouteDef:
    def __init__(self, method: str, path: str, handler: Any):
        self.method, self.path, self.handler = method, path, handler


class RouteTableDef(list):
    """aiohttp.web.RouteTableDef: decorators append RouteDefs; nothing is routed until add_routes."""

    def route(self, method: str, path: str, **_kwargs: Any) -> Any:
        def add(handler: Any) -> Any:
            self.append(RouteDef(method, path, handler))
            return handler

        return add

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.route("POST", path, **kwargs)


class App:
    """The aiohttp router part that matters: one handler per (method, path); a second one is an error."""

    def __init__(self):
        self.router: dict[tuple[str, str], Any] = {}

    def add_routes(self, routes: list[RouteDef]) -> None:
        for r in routes:
            if (r.method, r.path) in self.router:  # aiohttp: "Added route will never be executed, method GET is already registered"
                raise RuntimeError(f"Added route will never be executed, method {r.method} is already registered for {r.path}")
            self.router[(r.method, r.path)] = r.handler


def add_routes(server: Any) -> App:
    """``PromptServer.add_routes()``: every route once under ``/api`` and once without."""

    app = App()
    app.add_routes([RouteDef(r.method, "/api" + r.path, r.handler) for r in server.routes])
    app.add_routes(list(server.routes))
    server.app = app
    return app


class LoadResult:
    def __init__(self):
        self.node_class_mappings: dict[str, Any] = {}
        self.display_names: dict[str, str] = {}
        self.web_dir: str | None = None
        self.errors: list[str] = []


async def load_custom_node(module_path: str, flavour: str, module_name: str = "comfy_remote_pack_loaded") -> LoadResult:
    """``nodes.load_custom_node`` of the given ComfyUI flavour, for a pack directory."""

    result = LoadResult()
    for name in [m for m in sys.modules if m == module_name or m.startswith(module_name + ".")]:
        del sys.modules[name]
    try:
        spec = importlib.util.spec_from_file_location(module_name, os.path.join(module_path, "__init__.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        if getattr(module, "WEB_DIRECTORY", None) is not None:
            result.web_dir = os.path.abspath(os.path.join(module_path, module.WEB_DIRECTORY))
        if getattr(module, "NODE_CLASS_MAPPINGS", None) is not None:  # V1 wins
            result.node_class_mappings.update(module.NODE_CLASS_MAPPINGS)
            result.display_names.update(getattr(module, "NODE_DISPLAY_NAME_MAPPINGS", None) or {})
            return result
        if not hasattr(module, "comfy_entrypoint"):
            result.errors.append("lack of NODE_CLASS_MAPPINGS or comfy_entrypoint")
            return result
        entrypoint = module.comfy_entrypoint
        if not callable(entrypoint):
            result.errors.append("comfy_entrypoint is not callable")
            return result
        extension = await entrypoint() if inspect.iscoroutinefunction(entrypoint) else entrypoint()
        base = sys.modules["comfy_api.latest"].ComfyExtension
        if not isinstance(extension, base):
            result.errors.append("comfy_entrypoint did not return a ComfyExtension")
            return result
        if CALLS_ON_LOAD[flavour]:
            await extension.on_load()
        node_list = await extension.get_node_list()
        for node_cls in node_list:
            schema = node_cls.GET_SCHEMA()
            result.node_class_mappings[schema.node_id] = node_cls
            if schema.display_name is not None:
                result.display_names[schema.node_id] = schema.display_name
    except Exception as exc:  # ComfyUI logs and skips the pack
        result.errors.append(f"{type(exc).__name__}: {exc}")
    return result


def start_comfyui(pack_dir: str, flavour: str) -> tuple[Any, LoadResult]:
    """main.py's order: PromptServer exists -> custom nodes load -> add_routes. Returns (server, result)."""

    server = sys.modules["server"].PromptServer.instance
    result = asyncio.run(load_custom_node(pack_dir, flavour))
    add_routes(server)
    return server, result


__all__ = ["CALLS_ON_LOAD", "RouteTableDef", "add_routes", "load_custom_node", "start_comfyui"]
