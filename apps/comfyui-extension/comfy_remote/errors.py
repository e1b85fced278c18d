"""Named errors of the comfy-remote node pack.

Every error carries a stable string ``code`` (UPPER_SNAKE, shared with the
TypeScript packages where the meaning is the same), an optional ``cause`` and a
message that says what to do.
"""

from __future__ import annotations

from typing import Any


class ComfyRemoteError(Exception):
    """Base class of every error raised by comfy_remote."""

    code = "COMFY_REMOTE_ERROR"

    def __init__(self, message: str, *, code: str | None = None, cause: BaseException | None = None, details: Any = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.cause = cause
        self.details = details
        if cause is not None:
            self.__cause__ = cause

    def __str__(self) -> str:
        return f"[{self.code}] {self.args[0] if self.args else ''}"


class CodecError(ComfyRemoteError):
    """An encoded value could not be encoded or decoded (code ``BAD_VALUE`` unless said otherwise)."""

    code = "BAD_VALUE"


class PickleRefusedError(CodecError):
    """A ``base64+pickle`` value arrived and the user did not opt in."""

    code = "PICKLE_REFUSED"


class RemoteInputMissingError(ComfyRemoteError):
    """A Remote Input node found neither a payload, a registry entry nor a fallback."""

    code = "REMOTE_INPUT_MISSING"


class NodeNotFoundError(ComfyRemoteError):
    """No usable ``node`` (>= 20) binary to run the bridge."""

    code = "NODE_NOT_FOUND"


class BridgeError(ComfyRemoteError):
    """The bridge process failed or reported an ``error`` event (its code is kept)."""

    code = "BRIDGE_ERROR"


class CancelledError(BridgeError):
    """The user interrupted the run; the bridge was stopped and the remote job cancelled."""

    code = "CANCELLED"


class BadInputError(ComfyRemoteError):
    """A node input or route parameter is invalid; the message names the field and the fix."""

    code = "BAD_REQUEST"


def is_comfy_remote_error(value: object) -> bool:
    """True for every error raised by comfy_remote (whatever its subclass)."""

    return isinstance(value, ComfyRemoteError)


__all__ = [
    "BadInputError",
    "BridgeError",
    "CancelledError",
    "CodecError",
    "ComfyRemoteError",
    "NodeNotFoundError",
    "PickleRefusedError",
    "RemoteInputMissingError",
    "is_comfy_remote_error",
]
