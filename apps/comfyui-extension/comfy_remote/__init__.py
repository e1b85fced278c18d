"""comfy-remote node pack (Python side).

Pure modules (no ComfyUI imports): ``codec``, ``npy``, ``png``, ``files``,
``registry``, ``autogrow``, ``bridge``, ``remote_call``, ``deploy``.
ComfyUI glue: ``compat``, ``comfy_runtime``, ``schemas``, ``nodes``, ``routes``, ``extension``.
"""

__version__ = "0.1.0"
