"""Container start of the GPU class: memory snapshot restore, the optional warm-up run, cold start facts.

With Modal memory snapshots (``cold_start.memory_snapshot`` in modal_config.json) the GPU class starts
ComfyUI in ``@modal.enter(snap=True)``: Modal snapshots the container after it (ComfyUI's process with
torch imported and the custom nodes loaded) and later cold starts restore that instead of starting again.
A CPU snapshot is taken without a GPU: the image patches ComfyUI to fall back to the CPU then
(``patch_comfyui_for_cpu_snapshot`` in workflow.py) and, after the snapshot or a restore, ``enable_cuda``
asks ComfyUI (custom_nodes/comfy_remote_snapshot) to see the GPU again, as Modal's ComfyUI example does.
"""

import base64
import logging
import os
import time

import comfy_app_mode
import comfy_runner

logger = logging.getLogger("comfy_remote.coldstart")

CUDA_ROUTE = "/comfy_remote/snapshot/cuda"
WARMUP_IMAGE_SIDE = 512  # a mid-grey square: big enough for samplers and upscalers, small to send


def task_id():
    return os.environ.get("MODAL_TASK_ID") or ""


def restored(snapshot_task):
    """True in a container restored from a memory snapshot: Modal's restore sets MODAL_TASK_ID to the new
    container's task (modal/_runtime/task_lifecycle_manager.py ``memory_restore``); the container that took
    the snapshot, and every container without snapshots, keeps the id it started with."""
    return bool(snapshot_task) and task_id() != snapshot_task


def enable_cuda(comfy_url):
    """After a CPU snapshot: let the ComfyUI process see this container's GPU. Returns ComfyUI's answer
    ({"cuda": bool, "devices": n}); logs an error (the jobs would run on the CPU) when it still has no GPU."""
    devices = os.environ.get("CUDA_VISIBLE_DEVICES") or "0"
    try:
        status, body = comfy_runner.ComfyClient(comfy_url, timeout=60.0).request("POST", CUDA_ROUTE, {"visible_devices": devices})
    except OSError as exc:
        status, body = 0, {"error": str(exc)}
    answer = body if isinstance(body, dict) else {}
    if status != 200 or not answer.get("cuda"):
        logger.error(
            "ComfyUI does not see the GPU after the memory snapshot (HTTP %s: %s); jobs may run on the CPU. "
            "Turn on GPU snapshots (--gpu-snapshot) or turn memory snapshots off, and scaffold again",
            status, answer or body,
        )
    else:
        logger.info("ComfyUI sees %s GPU(s) after the memory snapshot", answer.get("devices"))
    return answer


def neutral_value(kind):
    """A value of a simple ComfyUI type to warm up with (None for other types)."""
    if kind == "IMAGE":
        side = WARMUP_IMAGE_SIDE
        png = comfy_app_mode._png(side, side, 3, b"\x80" * (side * side * 3))
        return {"type": "IMAGE", "encoding": "png", "data": base64.b64encode(png).decode("ascii")}
    scalars = {"INT": 0, "FLOAT": 0.0, "STRING": "", "BOOLEAN": False}
    if kind in scalars:
        return {"type": kind, "encoding": "json", "data": scalars[kind]}
    return None


def warmup_inputs(contract):
    """(inputs, None) for a warm-up run: inputs with a default keep it (nothing is sent), required ones of
    a simple type get a neutral value; (None, reason) when a required input cannot be made up."""
    inputs = {}
    for spec in (contract or {}).get("inputs") or []:
        if not spec.get("required"):
            continue
        value = neutral_value(spec.get("type"))
        if value is None:
            return None, "required input %r (type %s) has no default to warm up with" % (spec.get("name"), spec.get("type"))
        inputs[spec["name"]] = value
    return inputs, None


def warm_up(runner, contract, timeout):
    """Run the workflow once so that the first job finds models loaded (and, before a GPU snapshot, in the
    snapshot). Never raises: a failed or skipped warm-up is logged and the container serves jobs anyway.
    Returns True when the run completed."""
    began = time.monotonic()
    inputs, reason = warmup_inputs(contract)
    if inputs is None:
        logger.warning("warm-up skipped: %s; give that Remote Input a fallback value to warm up", reason)
        return False
    try:
        result = runner.run(inputs, timeout=max(1.0, timeout))
    except Exception as exc:  # noqa: BLE001 - the warm-up must not fail the container
        logger.warning("warm-up run failed after %.1f s; the container serves jobs anyway: %s: %s", time.monotonic() - began, type(exc).__name__, exc)
        return False
    if result.get("status") != "completed":
        logger.warning("warm-up run ended %s after %.1f s: %s", result.get("status"), time.monotonic() - began, result.get("error"))
        return False
    logger.info("warm-up run completed in %.1f s", time.monotonic() - began)
    return True
