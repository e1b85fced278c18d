"""comfy-remote's helper for CPU memory snapshots of the generated Modal app (loaded by its ComfyUI only).

With CPU memory snapshots ComfyUI starts before Modal snapshots the container, without a GPU (the image
patches comfy/model_management.py to fall back to the CPU then). After the snapshot, and after every
restore, the app POSTs here so that this ComfyUI process sees the container's GPU again, as Modal's
ComfyUI memory snapshot example does. ComfyUI listens on 127.0.0.1 inside the container only.
"""

import logging
import os
import re
import sys

from aiohttp import web
from server import PromptServer

NODE_CLASS_MAPPINGS = {}
NODE_DISPLAY_NAME_MAPPINGS = {}

_DEVICES = re.compile(r"^[A-Za-z0-9,-]{1,512}$")  # indexes ("0,1") or GPU UUIDs
logger = logging.getLogger("comfy_remote_snapshot")


@PromptServer.instance.routes.post("/comfy_remote/snapshot/cuda")
async def enable_cuda(request):
    try:
        body = await request.json()
    except ValueError:
        body = {}
    devices = str((body or {}).get("visible_devices") or "0")
    if not _DEVICES.match(devices):
        return web.json_response({"cuda": False, "error": "visible_devices must be GPU indexes or UUIDs, comma separated"}, status=400)
    os.environ["CUDA_VISIBLE_DEVICES"] = devices
    try:
        import torch

        available = bool(torch.cuda.is_available())
        count = torch.cuda.device_count() if available else 0
        mm = sys.modules.get("comfy.model_management")
        if available and mm is not None:  # ComfyUI sized "VRAM" from the RAM while it had no GPU
            mm.total_vram = mm.get_total_memory(mm.get_torch_device()) / (1024 * 1024)
    except Exception as exc:  # noqa: BLE001 - reported to the app, which logs it
        logger.exception("could not enable CUDA after the memory snapshot")
        return web.json_response({"cuda": False, "devices": 0, "error": "%s: %s" % (type(exc).__name__, exc)})
    logger.info("CUDA after the memory snapshot: available=%s devices=%d", available, count)
    return web.json_response({"cuda": available, "devices": count})
