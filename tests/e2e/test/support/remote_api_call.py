"""Calls a worker through the node pack's Remote API Python path (call_remote_api -> real bridge ->
worker), as ComfyUI would, and prints one JSON line describing what came back.

stdin: {"pack": <node pack dir>, "url": str, "names": "a, b", "slots": {"input_1": <slot>, ...}}
where a slot is {"image": [B, H, W, C]} (a deterministic float32 image) or a plain JSON value.
stdout: {"outputs": {name: <description>}, "result": <description>, "progress": [fractions]}
where an array is described as {"shape", "dtype", "equals_sent_image"}.
"""

import json
import sys

import numpy as np


def make_image(shape):
    count = int(np.prod(shape))
    return (np.arange(count, dtype=np.float32) % 251 / 250.0).reshape(shape)


def describe(value, sent):
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        same = sent is not None and value.shape == sent.shape and value.dtype == sent.dtype
        return {
            "shape": list(value.shape),
            "dtype": str(value.dtype),
            "equals_sent_image": bool(same and value.tobytes() == sent.tobytes()),
        }
    return value


def main():
    spec = json.loads(sys.stdin.read())
    sys.path.insert(0, spec["pack"])
    from comfy_remote.nodes.remote_api import call_remote_api
    from comfy_remote.remote_call import NullReporter

    sent = None
    slots = {}
    for name, slot in spec["slots"].items():
        if isinstance(slot, dict) and "image" in slot:
            sent = make_image(slot["image"])
            slots[name] = sent
        else:
            slots[name] = slot
    reporter = NullReporter()
    outcome = call_remote_api(spec["url"], 60.0, 0.1, "", False, spec["names"], reporter=reporter, **slots)
    progress = [v / m for kind, (v, m) in ((k, e) for k, e in reporter.events if k == "progress") if m]
    print(
        json.dumps(
            {
                "outputs": {k: describe(v, sent) for k, v in outcome.outputs.items()},
                "result": describe(outcome.result, sent),
                "progress": progress,
            }
        )
    )


if __name__ == "__main__":
    main()
