"""Remote API (``ComfyRemoteNode``): calls a deployed workflow and returns its outputs.

Outputs: ``result`` (the endpoint's result, as the original) and ``outputs`` (a
dict of every remote output by name; pick one with Remote Output Select).
"""

from __future__ import annotations

from typing import Any

from ..autogrow import collect_slots, parse_input_names, request_names
from ..comfy_runtime import NodeReporter
from ..errors import BadInputError, CancelledError
from ..remote_call import RemoteResult, Reporter, run_remote, timings_text
from ..schemas import remote_api_schema
from .base import NodeBase, hidden_value, io, node_output


def call_remote_api(
    url: str,
    request_timeout: float = 300.0,
    poll_interval: float = 1.5,
    token: str | None = "",
    allow_pickle: bool = False,
    input_names: str | None = "",
    reporter: Reporter | None = None,
    previews: bool | None = True,
    **slots: Any,
) -> RemoteResult:
    """The node's work without ComfyUI: slot kwargs (any autogrow flavour) -> request names -> bridge."""

    inputs = request_names(collect_slots(slots), parse_input_names(input_names))
    timeout = float(request_timeout if request_timeout is not None else 300.0)
    interval = float(poll_interval if poll_interval is not None else 1.5)
    if not 1.0 <= timeout <= 3600.0:
        raise BadInputError(f"request_timeout must be between 1 and 3600 seconds, got {timeout}")
    if not 0.1 <= interval <= 120.0:
        raise BadInputError(f"poll_interval must be between 0.1 and 120 seconds, got {interval}")
    return run_remote(
        url,
        inputs,
        reporter=reporter,
        token=token,
        timeout=timeout,
        poll_interval=interval,
        allow_pickle=bool(allow_pickle),
        previews=previews is not False,
    )


class RemoteApiNode(NodeBase):
    @classmethod
    def define_schema(cls) -> Any:
        return remote_api_schema(io)

    @classmethod
    def execute(
        cls,
        url: str = "",
        request_timeout: float = 300.0,
        poll_interval: float = 1.5,
        token: str = "",
        allow_pickle: bool = False,
        input_names: str = "",
        previews: bool = True,
        **slots: Any,
    ) -> Any:
        node_id = hidden_value(cls, "unique_id")
        reporter = NodeReporter(None if node_id is None else str(node_id))
        try:
            outcome = call_remote_api(
                url,
                request_timeout,
                poll_interval,
                token,
                allow_pickle,
                input_names,
                reporter=reporter,
                previews=previews,
                **slots,
            )
        except CancelledError:
            reporter.raise_interrupt()
            raise
        reporter.progress(1.0, 1.0)
        done = f"done: {len(outcome.outputs)} output(s) {', '.join(outcome.outputs) or ''}".strip()
        spent = timings_text(outcome.timings)
        reporter.text(f"{done} ({spent})" if spent else done)
        return node_output(outcome.result, outcome.outputs)


__all__ = ["RemoteApiNode", "call_remote_api"]
