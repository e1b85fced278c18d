"""Serves a generated project's web app on a real port (stub modal; uvicorn), for the TS tests.

usage: python3 serve_generated.py <project dir> <ComfyUI url> <token>
Prints {"url": "http://127.0.0.1:<port>"} once listening; runs until terminated.
"""

import json
import os
import pathlib
import socket
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import uvicorn  # noqa: E402

from scaffolder_helpers import load_workflow  # noqa: E402


def exit_with_parent():
    """Do not outlive the test runner that started us."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    project, comfy_url, token = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    module = load_workflow(project, comfy_url, token=token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections queue until uvicorn accepts them
    server = uvicorn.Server(uvicorn.Config(module.web.local(), log_level="warning"))
    print(json.dumps({"url": "http://127.0.0.1:%d" % sock.getsockname()[1]}), flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
