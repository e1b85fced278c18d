"""What the nodes need from the running ComfyUI, feature-detected and optional.

- progress bar: ``comfy.utils.ProgressBar`` (every version) plus
  ``ComfyAPISync().execution.set_progress`` where it exists (0.4+);
- progress text: ``PromptServer.instance.send_progress_text`` where it exists;
- interruption: ``comfy.model_management.processing_interrupted()``.

ComfyUI's progress hook raises ``InterruptProcessingException`` (and clears the
flag) when the user pressed Cancel; ``NodeReporter`` remembers that so the
bridge still gets stopped and the exception is re-raised afterwards.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def prompt_server() -> Any:
    try:
        from server import PromptServer  # type: ignore[import-not-found]
    except Exception:
        return None
    return getattr(PromptServer, "instance", None)


def _model_management() -> Any:
    try:
        import comfy.model_management as mm  # type: ignore[import-not-found]
    except Exception:
        return None
    return mm


def processing_interrupted() -> bool:
    mm = _model_management()
    if mm is None or not hasattr(mm, "processing_interrupted"):
        return False
    try:
        return bool(mm.processing_interrupted())
    except Exception:
        return False


def _is_interrupt(exc: BaseException) -> bool:
    return type(exc).__name__ == "InterruptProcessingException"


class NodeReporter:
    """Progress bar + progress text of one executing node; never raises from ``progress``/``text``."""

    def __init__(self, node_id: str | None, total: float = 100.0):
        self.node_id = node_id
        self.interrupt: BaseException | None = None
        self.last: tuple[float, float] = (0.0, float(total))
        self.bar = None
        self.execution = None
        self.server = prompt_server()
        try:
            import comfy.utils  # type: ignore[import-not-found]

            try:
                self.bar = comfy.utils.ProgressBar(total, node_id=node_id)
            except TypeError:  # very old signature without node_id
                self.bar = comfy.utils.ProgressBar(total)
        except Exception:
            self.bar = None
        try:
            from comfy_api.latest import ComfyAPISync  # type: ignore[import-not-found]

            self.execution = getattr(ComfyAPISync(), "execution", None)
        except Exception:  # 0.3.64 has no execution API
            self.execution = None

    def preview(self, mime: str, image: bytes) -> None:
        """Show a remote preview on this node the way KSampler does: ProgressBar.update_absolute with a
        (format, PIL image, max size) preview; ComfyUI sends it to the frontend (both versions)."""

        if self.bar is None:
            return
        try:
            import io as _io

            from PIL import Image  # type: ignore[import-not-found]

            picture = Image.open(_io.BytesIO(image))
            picture.load()
        except Exception as exc:  # noqa: BLE001 - a broken preview is skipped, never fatal
            logger.debug("remote preview not decodable: %s", exc)
            return
        kind = "PNG" if mime == "image/png" else "JPEG"
        try:
            self.bar.update_absolute(self.last[0], self.last[1], (kind, picture.convert("RGB"), None))
        except BaseException as exc:  # noqa: BLE001 - the hook raises the interrupt
            if _is_interrupt(exc):
                self.interrupt = exc
            else:
                logger.debug("preview update failed: %s", exc)

    def progress(self, value: float, maximum: float) -> None:
        maximum = maximum if maximum and maximum > 0 else 1.0
        value = max(0.0, min(float(value), float(maximum)))
        self.last = (value, maximum)
        if self.bar is not None:
            try:
                self.bar.update_absolute(value, maximum)
            except BaseException as exc:  # noqa: BLE001 - the hook raises the interrupt
                if _is_interrupt(exc):
                    self.interrupt = exc
                else:
                    logger.debug("ProgressBar update failed: %s", exc)
        if self.execution is not None and self.node_id is not None:
            try:
                self.execution.set_progress(value, maximum, node_id=self.node_id)
            except BaseException as exc:  # noqa: BLE001
                if _is_interrupt(exc):
                    self.interrupt = exc
                else:
                    logger.debug("set_progress failed: %s", exc)

    def text(self, message: str) -> None:
        if self.server is None or self.node_id is None or not hasattr(self.server, "send_progress_text"):
            return
        try:
            self.server.send_progress_text(message, self.node_id)
        except Exception as exc:
            logger.debug("send_progress_text failed: %s", exc)

    def should_cancel(self) -> bool:
        return self.interrupt is not None or processing_interrupted()

    def raise_interrupt(self) -> None:
        """Re-raise ComfyUI's own interrupt exception when there is one (so the run shows as interrupted)."""

        mm = _model_management()
        if mm is not None and hasattr(mm, "throw_exception_if_processing_interrupted"):
            mm.throw_exception_if_processing_interrupted()
        if self.interrupt is not None:
            raise self.interrupt


__all__ = ["NodeReporter", "processing_interrupted", "prompt_server"]
