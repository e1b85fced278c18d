"""V3 schemas of the pack's nodes, built from whatever ``io`` module ComfyUI provides.

The original widget names come first, in the original order (saved workflows
store widget values by position); every new input comes after them.
"""

from __future__ import annotations

from typing import Any

from .autogrow import remote_input_specs

CATEGORY = "utils/remote"
INPUT_ID = "ComfyRemoteInput"
OUTPUT_ID = "ComfyRemoteOutput"
API_ID = "ComfyRemoteNode"
DEPLOY_ID = "ComfyRemoteModalDeployment"
SELECT_ID = "ComfyRemoteSelectOutput"


def remote_input_schema(io: Any) -> Any:
    return io.Schema(
        node_id=INPUT_ID,
        display_name="Remote Input",
        category=CATEGORY,
        description="A value that comes in with a remote request (its name is the key).",
        inputs=[
            io.String.Input("key", default="payload", display_name="Payload Key"),
            io.AnyType.Input("fallback", optional=True, display_name="Fallback Value"),
            io.String.Input(
                "payload",
                optional=True,
                force_input=True,
                tooltip="JSON text of one encoded value; set by workers in the API prompt",
            ),
        ],
        outputs=[io.AnyType.Output("value", display_name="Value")],
        hidden=[io.Hidden.unique_id],
    )


def remote_output_schema(io: Any) -> Any:
    return io.Schema(
        node_id=OUTPUT_ID,
        display_name="Remote Output",
        category=CATEGORY,
        description="A value returned to the remote caller under its key.",
        inputs=[
            io.AnyType.Input("value"),
            io.String.Input("key", default="result"),
        ],
        outputs=[io.AnyType.Output("passthrough", display_name="Value")],
        hidden=[io.Hidden.unique_id],
        is_output_node=True,
    )


def remote_api_schema(io: Any) -> Any:
    inputs = [
        io.String.Input("url", default="", display_name="Remote URL"),
        io.Float.Input("request_timeout", default=300.0, min=1.0, max=3600.0, step=1.0, optional=True, display_name="Timeout (s)"),
        io.Float.Input("poll_interval", default=1.5, min=0.1, max=120.0, step=0.1, optional=True, display_name="Poll Interval (s)"),
        *remote_input_specs(io),
        io.String.Input(
            "token",
            default="",
            optional=True,
            tooltip="Bearer token for the endpoint; blank uses the COMFY_REMOTE_TOKEN environment variable",
        ),
        io.Boolean.Input(
            "allow_pickle",
            default=False,
            optional=True,
            tooltip="Accept (and send) base64+pickle values. Pickle runs code when loaded: only for endpoints you trust",
        ),
        io.String.Input(
            "input_names",
            default="",
            optional=True,
            tooltip="Request names of the remote inputs in slot order (comma or newline separated); blank = input_1..N",
        ),
        # last, so the widget values of workflows saved before it keep their positions
        io.Boolean.Input(
            "previews",
            default=True,
            optional=True,
            tooltip="Show the remote run's live previews (sampler images) on this node; turn off on slow links",
        ),
    ]
    return io.Schema(
        node_id=API_ID,
        display_name="Remote API",
        category=CATEGORY,
        description="Runs a deployed comfy-remote workflow (Modal app or mock worker) and returns its outputs.",
        inputs=inputs,
        outputs=[
            io.AnyType.Output("result", display_name="Result"),
            io.AnyType.Output("outputs", display_name="Outputs", tooltip="dict of every remote output by name"),
        ],
        hidden=[io.Hidden.unique_id],
    )


def modal_deployment_schema(io: Any) -> Any:
    return io.Schema(
        node_id=DEPLOY_ID,
        display_name="Modal Deployment",
        category=CATEGORY,
        description="Turns a workflow into a Modal app and deploys it; returns the endpoint URL.",
        inputs=[
            io.String.Input("workflow_path", default=""),
            io.String.Input("app_name", default="comfy-remote", optional=True),
            io.String.Input("working_directory", default="", optional=True),
            io.String.Input("extra_pip_requirements", default="", multiline=True, optional=True),
            io.String.Input("extra_system_packages", default="", multiline=True, optional=True),
            io.String.Input("gpu_type", default="", optional=True, tooltip="blank means H100"),
            io.Boolean.Input("deploy", default=True),
            io.Boolean.Input("dry_run", default=False, optional=True),
            io.Boolean.Input("clean_build", default=False, optional=True),
            io.Boolean.Input("rebuild_modal_app", default=False, optional=True, display_name="Rebuild Modal App"),
            io.Boolean.Input("delete_modal_app", default=False, optional=True, display_name="Delete Modal App"),
            # added after the original inputs: saved workflows store widget values by position
            io.String.Input(
                "models",
                default="",
                multiline=True,
                optional=True,
                tooltip="one '<https url>=<path under ComfyUI/models/>[@sha256:<hex>]' per line, downloaded at image build; '#' comments",
            ),
            io.String.Input(
                "models_secret",
                default="",
                optional=True,
                tooltip="Modal Secret with HF_TOKEN for gated Hugging Face models (blank: none)",
            ),
            io.String.Input(
                "volume",
                default="",
                optional=True,
                tooltip="Modal Volume (created if missing) ComfyUI also loads models from (blank: none)",
            ),
            # cold start (after the models inputs, for the same reason)
            io.Boolean.Input(
                "memory_snapshot",
                default=False,
                optional=True,
                display_name="Memory Snapshot",
                tooltip="Modal memory snapshots: ComfyUI's start-up is captured once per deploy and restored on cold starts "
                "(custom nodes must not touch CUDA when imported)",
            ),
            io.Boolean.Input(
                "gpu_snapshot",
                default=False,
                optional=True,
                display_name="GPU Snapshot (alpha)",
                tooltip="also snapshot GPU memory (Modal alpha feature); needs Memory Snapshot",
            ),
            io.Boolean.Input(
                "warmup",
                default=False,
                optional=True,
                display_name="Warm-up Run",
                tooltip="run the workflow once with its default inputs when a container starts (failures are logged, not fatal)",
            ),
            io.Int.Input(
                "startup_timeout",
                default=900,
                min=10,
                max=3600,
                optional=True,
                display_name="Startup Timeout (s)",
                tooltip="seconds one container start may take: ComfyUI start, snapshot restore, warm-up",
            ),
        ],
        outputs=[
            io.String.Output("service_url", display_name="Service URL"),
            io.String.Output("project_dir", display_name="Project Dir"),
        ],
        hidden=[io.Hidden.unique_id, io.Hidden.prompt],
        is_output_node=True,
    )


def select_output_schema(io: Any) -> Any:
    return io.Schema(
        node_id=SELECT_ID,
        display_name="Remote Output Select",
        category=CATEGORY,
        description="Picks one output by name from the Remote API node's 'outputs'.",
        inputs=[
            io.AnyType.Input("outputs"),
            io.String.Input("name", default="result"),
        ],
        outputs=[io.AnyType.Output("value", display_name="Value")],
    )


__all__ = [
    "API_ID",
    "CATEGORY",
    "DEPLOY_ID",
    "INPUT_ID",
    "OUTPUT_ID",
    "SELECT_ID",
    "modal_deployment_schema",
    "remote_api_schema",
    "remote_input_schema",
    "remote_output_schema",
    "select_output_schema",
]
