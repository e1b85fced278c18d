"""Stub of modal.exception (class names and hierarchy as in modal-client's modal/exception.py)."""


class Error(Exception):
    pass


class TimeoutError(Error):  # noqa: A001 - same name as Modal's
    pass


class FunctionTimeoutError(TimeoutError):
    pass


class OutputExpiredError(TimeoutError):
    pass


class NotFoundError(Error):
    pass


class InvalidError(Error):
    pass


class RemoteError(Error):
    """Raised by ``FunctionCall.get`` when the call failed remotely (also when it was cancelled)."""


class InputCancellation(BaseException):
    pass


class ModuleNotMountable(Exception):
    pass
