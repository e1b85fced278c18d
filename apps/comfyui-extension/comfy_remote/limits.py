"""Memory budget of one ``decode_value`` call (PNG values expand ~20x from bytes to float32 pixels)."""

from __future__ import annotations

import os

from .errors import CodecError

MAX_DECODED_ENV = "COMFY_REMOTE_MAX_DECODED_BYTES"
# Two 8192 x 8192 RGBA images as float32 (the largest PNG is 1 GiB decoded).
DEFAULT_MAX_DECODED_BYTES = 2 * 1024**3


def max_decoded_bytes() -> int:
    """The cap: ``COMFY_REMOTE_MAX_DECODED_BYTES`` when set to a positive integer, else 2 GiB."""

    raw = os.environ.get(MAX_DECODED_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return DEFAULT_MAX_DECODED_BYTES


class DecodeBudget:
    """Bytes the decoded PNG pixels of one value (with everything nested in it) may take."""

    def __init__(self, limit: int | None = None):
        self.limit = max_decoded_bytes() if limit is None else limit
        self.used = 0

    def take(self, nbytes: int, where: str) -> None:
        """Charge ``nbytes`` before allocating them; over the cap is ``DECODED_TOO_LARGE``."""

        if self.used + nbytes > self.limit:
            raise CodecError(
                f"{where}: decoding needs {self.used + nbytes} bytes of pixels, over the limit of {self.limit}; "
                f"send fewer or smaller images (or npy), or raise {MAX_DECODED_ENV}",
                code="DECODED_TOO_LARGE",
            )
        self.used += nbytes


__all__ = ["DEFAULT_MAX_DECODED_BYTES", "MAX_DECODED_ENV", "DecodeBudget", "max_decoded_bytes"]
