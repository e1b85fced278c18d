"""`comfy-remote-modal serve`: a generated project's own web app and runner, run locally without Modal.

usage: python serve_local.py <project dir> --comfyui-url URL [--host 127.0.0.1] [--port 8000]
The token, when there is one, comes from the environment (COMFY_REMOTE_SERVE_TOKEN), never argv.

The project's workflow.py is imported as Modal would import it, but with the in-process ``modal`` of
``local_modal/`` (spawn runs the GPU function in a thread, FunctionCall/Dict live in this process), so
the web app (comfy_web), the runner (comfy_runner) and the wire code (comfy_wire) are the exact files
that `modal deploy` ships. The GPU function talks to the ComfyUI given by --comfyui-url instead of
starting one. Prints ``listening on http://<host>:<port>`` once the socket accepts connections.
"""

import argparse
import importlib.util
import ipaddress
import json
import logging
import os
import pathlib
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
TOKEN_ENV = "COMFY_REMOTE_SERVE_TOKEN"
COMFYUI_WAIT_ENV = "COMFY_REMOTE_COMFYUI_WAIT"  # seconds to wait for ComfyUI to answer (default 15)
REMOTE_NODES = ("ComfyRemoteInput", "ComfyRemoteOutput")

logger = logging.getLogger("comfy-remote-serve")


class ServeError(Exception):
    """A problem the user fixes (bad option, ComfyUI unreachable); exit code 1 with this message."""


def is_loopback(host):
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(header):
    header = header.strip()
    if header.startswith("["):
        return header[: header.find("]") + 1]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def browser_guard(app, check_host):
    """ASGI wrapper with the mock worker's browser defences: a web page (Origin header) from another
    origin is refused (FORBIDDEN_ORIGIN), and without a token the Host must be a loopback name
    (FORBIDDEN_HOST: DNS rebinding)."""

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        origin = headers.get("origin")
        code = message = None
        if check_host and not is_loopback(_host_name(host)):
            code, message = "FORBIDDEN_HOST", "Host %r is not a loopback name; call the app as http://127.0.0.1:<port> (or localhost)." % host
        elif origin is not None and origin not in ("http://" + host, "https://" + host):
            code, message = "FORBIDDEN_ORIGIN", "Requests from the web page %s are refused; call the app from a program." % origin
        if code is None:
            return await app(scope, receive, send)
        envelope = {"status": "failed", "progress": {"value": 0, "max": 1}, "message": message, "error": {"code": code, "message": message}}
        body = json.dumps(envelope).encode("utf-8")  # an error envelope like every other refusal
        await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return guarded


def check_comfyui(url, needed=REMOTE_NODES):
    """ComfyUI answers /system_stats and has the comfy-remote nodes the prompt uses (``needed``; an App Mode
    workflow without Remote nodes needs none); otherwise a ServeError saying what to do."""
    base = url.rstrip("/")
    deadline = time.monotonic() + float(os.environ.get(COMFYUI_WAIT_ENV) or 15)
    while True:
        try:
            with urllib.request.urlopen(base + "/system_stats", timeout=5) as resp:
                if resp.status == 200:
                    break
        except (OSError, ValueError) as exc:
            if time.monotonic() > deadline:
                raise ServeError("ComfyUI at %s did not answer /system_stats (%s): start ComfyUI or fix --comfyui-url" % (base, exc)) from exc
        time.sleep(0.5)
    for node in needed:
        try:
            with urllib.request.urlopen("%s/object_info/%s" % (base, node), timeout=10) as resp:
                known = node in (json.loads(resp.read() or b"{}") or {})
        except (OSError, ValueError):
            known = True  # an old ComfyUI without per-class object_info: the first job will tell
        if not known:
            raise ServeError(
                "ComfyUI at %s has no %s node: copy the project's custom_nodes/comfy_remote folder into ComfyUI/custom_nodes/ "
                "(or install the comfy-remote node pack) and restart ComfyUI" % (base, node)
            )


def remote_nodes_used(project):
    """The comfy-remote node classes the project's prompt.json uses."""
    try:
        prompt = json.loads((project / "prompt.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return REMOTE_NODES
    used = {n.get("class_type") for n in prompt.values() if isinstance(n, dict)} if isinstance(prompt, dict) else set()
    return tuple(node for node in REMOTE_NODES if node in used)


def load_project(project):
    """Imports <project>/workflow.py with the in-process modal (ahead of a real one on sys.path)."""
    if not (project / "workflow.py").is_file():
        raise ServeError("%s has no workflow.py: pass the folder `comfy-remote-modal scaffold` wrote" % project)
    sys.path.insert(0, str(project))
    sys.path.insert(0, str(HERE / "local_modal"))
    import modal

    if not str(getattr(modal, "__file__", "")).startswith(str(HERE)):
        raise ServeError("imported a modal package from %s instead of comfy-remote's in-process one" % modal.__file__)
    spec = importlib.util.spec_from_file_location("workflow", project / "workflow.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["workflow"] = module
    spec.loader.exec_module(module)
    return module


def build_app(module, comfyui_url, token):
    """The project's ASGI app: its GPU worker entered against comfyui_url, auth from the token."""
    if token:
        module.AUTH_MODE = "token"  # also for proxy-auth projects: there is no Modal proxy locally
        os.environ[module.TOKEN_ENV] = token
    else:
        module.AUTH_MODE = "none"
    os.environ["COMFY_REMOTE_COMFYUI_URL"] = comfyui_url
    module.ComfyWorker._container()  # runs the enters now (snap=True ones first, as Modal): the runner connects to ComfyUI
    return module.web.local()


def exit_with_parent():
    """Do not outlive the comfy-remote-modal process that started us."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="comfy-remote-modal serve")
    parser.add_argument("project")
    parser.add_argument("--comfyui-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level.upper(), format="serve: %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    threading.Thread(target=exit_with_parent, daemon=True).start()
    token = os.environ.pop(TOKEN_ENV, "") or None
    try:
        if token is None and not is_loopback(args.host):
            raise ServeError("--host %s without a token would let anyone who reaches this machine run jobs: pass --token (or set COMFY_REMOTE_TOKEN), or bind 127.0.0.1" % args.host)
        if token is not None and len(token) < 8:
            raise ServeError("--token must be at least 8 characters")
        if not 0 <= args.port <= 65535:
            raise ServeError("--port must be 0..65535, got %d" % args.port)
        if not args.comfyui_url.startswith(("http://", "https://")):
            raise ServeError("--comfyui-url must be an http(s) URL, got %r" % args.comfyui_url)
        project = pathlib.Path(args.project).resolve()
        module = load_project(project)
        check_comfyui(args.comfyui_url, remote_nodes_used(project))
        import uvicorn

        app = browser_guard(build_app(module, args.comfyui_url, token), check_host=token is None)
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host.strip("[]"), args.port))
    except ServeError as exc:
        print("comfy-remote-modal serve: %s" % exc, file=sys.stderr, flush=True)
        return 1
    except OSError as exc:
        print("comfy-remote-modal serve: cannot listen on %s:%d: %s" % (args.host, args.port, exc), file=sys.stderr, flush=True)
        return 1
    sock.listen(128)  # connections queue until uvicorn accepts them
    port = sock.getsockname()[1]
    shown = "[%s]" % args.host.strip("[]") if family == socket.AF_INET6 else args.host
    auth = "Bearer token required" if token else "none (loopback only)"
    print("comfy-remote-modal serve: app %s -> ComfyUI %s; auth: %s" % (module.APP_NAME, args.comfyui_url, auth), flush=True)
    print("listening on http://%s:%d" % (shown, port), flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    try:
        server.run(sockets=[sock])
    finally:
        module.ComfyWorker._shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
