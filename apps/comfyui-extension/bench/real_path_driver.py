"""Bench driver (used by bench/real-path.mjs): the Python side of a Remote API node, without ComfyUI.

Reads one JSON command per stdin line and answers one JSON line on stdout:
  {"op": "run", "url": ..., "side": S, "runs": n}  -> {"remote": [ms...], "local": [ms...], "bridge_pid": pid}
For each run: an EmptyImage-like float32 [1,S,S,3] is made (not timed); "local" times ImageInvert
(1 - image) on it; "remote" times run_remote(url, {"image": image}) - encode to the work dir, the
persistent bridge, the worker, back, decode - and checks the result is the image or its inverse.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from comfy_remote import bridge_server  # noqa: E402
from comfy_remote.remote_call import run_remote  # noqa: E402


def empty_image(side: int) -> np.ndarray:
    # EmptyImage fills one colour; a ramp keeps the bytes varied without costing much.
    row = np.linspace(0.0, 1.0, side * 3, dtype=np.float32).reshape(1, 1, side, 3)
    return np.ascontiguousarray(np.broadcast_to(row, (1, side, side, 3)))


def as_array(value):
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def run(cmd: dict) -> dict:
    side = int(cmd["side"])
    image = empty_image(side)
    remote, local = [], []
    for _ in range(int(cmd.get("runs", 1))):
        t0 = time.perf_counter()
        inverted = 1.0 - image
        local.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        out = run_remote(cmd["url"], {"image": image}, timeout=float(cmd.get("timeout", 1800)), poll_interval=0.05)
        remote.append((time.perf_counter() - t0) * 1000)
        got = as_array(out.outputs.get("image", out.result))
        if got.shape != image.shape or not (np.array_equal(got, image) or np.array_equal(got, inverted)):
            raise RuntimeError(f"side {side}: the remote result is neither the image nor its inverse")
        del out, got, inverted
    server = bridge_server.get_server() if bridge_server.persistent_enabled() else None
    return {"remote": remote, "local": local, "bridge_pid": server.pid if server else None}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = run(json.loads(line))
        except Exception as exc:  # reported to the harness, which prints it in the table
            answer = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
