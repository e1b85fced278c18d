"""Large values to and from ComfyUI as files (docs/protocol.md, "Values in files"; format A).

Every binary leaf (npy/png/file encoding, also inside object/list values) of at least
``FILE_MIN`` bytes goes to the Remote Input as a reference to a file in ComfyUI's
``temp/comfy_remote/`` folder instead of base64 text in the prompt; Remote Output reports
large values the same way. ``FileHandoff`` either shares ComfyUI's filesystem (the GPU
container starts ComfyUI itself: files are written and read in place) or talks HTTP
(``POST /upload/image``, ``GET /view``) to a ComfyUI elsewhere. Given only a URL (``serve``), it
first asks the node pack whether this process shares ComfyUI's ``temp/comfy_remote`` folder
(``probe_shared_temp``: a probe file ComfyUI must read back) and, if so, uses the folder. Stdlib only.
"""

import base64
import json
import logging
import os
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
import uuid

logger = logging.getLogger(__name__)

FILE_MIN = 64 * 1024
PART_BYTES = 64 * 1024 * 1024  # uploads above this go in parts (ComfyUI refuses bodies over --max-upload-size)
SUBFOLDER = "comfy_remote"
BINARY = ("npy", "png", "file")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
SPARE_PREFIX = "cr-spare-"  # files handed back for Remote Output to write over (the node pack's comfy_files)
SPARES_MAX = 2
_EXT_BY_MIME = {
    "video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov", "video/x-matroska": "mkv",
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/flac": "flac", "audio/mpeg": "mp3", "audio/ogg": "ogg",
    "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif", "model/gltf-binary": "glb",
}


class HandoffError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _ext(value):
    if value.get("encoding") != "file":
        return value.get("encoding")
    mime = str(value.get("mime") or "").lower()
    if mime in _EXT_BY_MIME:
        return _EXT_BY_MIME[mime]
    tail = os.path.splitext(str(value.get("filename") or ""))[1].lstrip(".").lower()
    return tail if re.fullmatch(r"[a-z0-9]{1,8}", tail or "") else "bin"


def _payload(data, min_size):
    """The bytes of a leaf's data when it is large enough to travel as a file, else None."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data if memoryview(data).nbytes >= min_size else None
    if isinstance(data, str) and len(data) * 3 // 4 >= min_size:
        try:
            return base64.b64decode(data, validate=False)
        except ValueError:
            return None  # the Remote Input reports bad base64 with its field name
    return None


def _is_ref(data):
    return isinstance(data, dict) and isinstance(data.get("file"), dict)


def _walk(value, leaf):
    if isinstance(value, list):
        return [_walk(v, leaf) for v in value]
    if not isinstance(value, dict) or not isinstance(value.get("encoding"), str):
        return value
    enc, data = value["encoding"], value.get("data")
    if enc == "object" and isinstance(data, dict):
        return dict(value, data={k: _walk(v, leaf) for k, v in data.items()})
    if enc == "list" and isinstance(data, list):
        return dict(value, data=[_walk(v, leaf) for v in data])
    if enc in BINARY and "data" in value:
        return leaf(value)
    return value


def _post_json(url, body, timeout):
    req = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def probe_shared_temp(base_url, timeout=10.0):
    """``(ComfyUI's temp folder, takes spares)`` when this process shares it, else ``(None, False)``.

    The node pack names its ``<temp>/comfy_remote`` folder; a probe file with a random token is written
    there and the pack must read that token back (another machine, another user, an old pack: None).
    A pack that answers ``"spares": true`` writes Remote Output values over ``cr-spare-*`` files.
    """
    base_url = base_url.rstrip("/")
    path = None
    try:
        with urllib.request.urlopen(base_url + "/comfy-remote/files/folder", timeout=timeout) as resp:
            folder = json.loads(resp.read()).get("folder")
        if not isinstance(folder, str) or not os.path.isabs(folder) or os.path.basename(folder) != SUBFOLDER:
            return None, False
        name, token = "cr-probe-" + secrets.token_hex(16), secrets.token_hex(24)
        path = os.path.join(folder, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as fh:
            fh.write(token)
        answer = _post_json(base_url + "/comfy-remote/files/probe", {"filename": name, "token": token}, timeout)
        if not isinstance(answer, dict) or answer.get("shared") is not True:
            return None, False
        return os.path.dirname(folder), answer.get("spares") is True
    except (OSError, ValueError, AttributeError):
        return None, False
    finally:
        if path is not None:
            try:
                os.unlink(path)
            except OSError:
                pass


class FileHandoff:
    """``temp_dir``: ComfyUI's temp folder when this process shares its filesystem (the GPU container:
    its pack, bundled with this app, takes spares); None: probe it once (``probe_shared_temp``), HTTP
    when that fails. ``probe=False`` keeps HTTP."""

    def __init__(self, base_url, temp_dir=None, min_size=FILE_MIN, timeout=300.0, probe=True):
        self.base_url = base_url.rstrip("/")
        self.temp_dir = temp_dir
        self.spares = temp_dir is not None
        self.min_size = min_size
        self.timeout = timeout
        self._probe = probe and temp_dir is None

    def _check_shared(self):
        if self._probe:
            self._probe = False
            self.temp_dir, self.spares = probe_shared_temp(self.base_url)
            logger.info(
                "ComfyUI files go %s",
                "through its folder %s (same machine)" % self.temp_dir if self.temp_dir else "through /upload/image and /view",
            )

    # ---- inputs -------------------------------------------------------------------------------

    def put_inputs(self, mapped, tag=None):
        """{node_id: encoded value} -> same with large leaves as file refs (files written/uploaded now)."""
        self._check_shared()
        prefix = "cr-%s" % re.sub(r"[^A-Za-z0-9_-]+", "", tag or uuid.uuid4().hex)[:64]
        count = [0]

        def leaf(value):
            raw = _payload(value.get("data"), self.min_size)
            if raw is None:
                return value
            count[0] += 1
            size = memoryview(raw).nbytes
            if self.temp_dir is not None or size <= PART_BYTES:
                name = "%s-%d.%s" % (prefix, count[0], _ext(value))
                self._put(name, raw)
                return dict(value, data={"file": {"filename": name, "subfolder": SUBFOLDER, "type": "temp"}})
            # over HTTP, in parts under ComfyUI's --max-upload-size (100 MiB by default); Remote Input joins them
            refs = []
            view = memoryview(raw)
            for part, at in enumerate(range(0, size, PART_BYTES)):
                name = "%s-%d-p%d.%s" % (prefix, count[0], part, _ext(value))
                self._put(name, view[at:at + PART_BYTES])
                refs.append({"filename": name, "subfolder": SUBFOLDER, "type": "temp"})
            return dict(value, data={"files": refs})

        return {node: _walk(value, leaf) for node, value in mapped.items()}

    def _put(self, name, raw):
        if self.temp_dir is not None:
            folder = os.path.join(self.temp_dir, SUBFOLDER)
            os.makedirs(folder, exist_ok=True)
            fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
            return
        boundary = "comfyremote" + uuid.uuid4().hex
        fields = "".join(
            '--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, k, v)
            for k, v in (("type", "temp"), ("subfolder", SUBFOLDER), ("overwrite", "true"))
        )
        head = (fields + '--%s\r\nContent-Disposition: form-data; name="image"; filename="%s"\r\n'
                'Content-Type: application/octet-stream\r\n\r\n' % (boundary, name)).encode("ascii")
        tail = ("\r\n--%s--\r\n" % boundary).encode("ascii")
        size = len(head) + memoryview(raw).nbytes + len(tail)
        req = urllib.request.Request(self.base_url + "/upload/image", data=[head, raw, tail], method="POST")  # streamed, not joined
        req.add_header("Content-Type", "multipart/form-data; boundary=%s" % boundary)
        req.add_header("Content-Length", str(size))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read()
        except urllib.error.HTTPError as err:
            if err.code == 413:
                raise HandoffError(
                    "PAYLOAD_TOO_LARGE",
                    "ComfyUI refused an input file of %d bytes (HTTP 413): start it with a larger --max-upload-size (MB)" % (size,),
                ) from err
            raise HandoffError("COMFYUI_PROTOCOL", "ComfyUI answered POST /upload/image with HTTP %d" % err.code) from err
        except OSError as err:
            raise HandoffError("COMFYUI_UNAVAILABLE", "cannot upload an input file to ComfyUI: %s" % err) from err

    # ---- outputs ------------------------------------------------------------------------------

    def read_outputs(self, outputs):
        """{name: encoded value} with every Remote Output file ref replaced by the file's bytes."""
        self._check_shared()

        def leaf(value):
            data = value.get("data")
            if not _is_ref(data):
                return value
            return dict(value, data=self._get(data["file"]))

        return {name: _walk(value, leaf) for name, value in outputs.items()}

    def _release(self, ref):
        """The node pack deletes a Remote Output file once read (best effort: older packs answer 404)."""
        body = json.dumps({"files": [ref]}).encode("utf-8")
        req = urllib.request.Request(self.base_url + "/comfy-remote/files/release", data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                resp.read()
        except OSError as err:
            logger.debug("release of %s failed: %s", ref.get("filename"), err)

    def _recycle(self, folder, path):
        """Hand a read Remote Output file back as a spare (``cr-spare-<hex>.bin``, at most SPARES_MAX): the
        pack writes the next output over its cached pages instead of new ones. Else delete it."""
        try:
            if self.spares and sum(1 for n in os.listdir(folder) if n.startswith(SPARE_PREFIX)) < SPARES_MAX:
                os.utime(path)  # its age counts from now for the pack's clean-up
                os.rename(path, os.path.join(folder, SPARE_PREFIX + secrets.token_hex(12) + ".bin"))
                return
            os.unlink(path)  # do not fill the container's disk
        except OSError:
            pass

    def _get(self, ref):
        name, sub, type_ = ref.get("filename"), ref.get("subfolder"), ref.get("type")
        if sub != SUBFOLDER or type_ != "temp" or not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
            raise HandoffError("COMFYUI_PROTOCOL", "Remote Output named a file this worker does not read: %s" % json.dumps(ref))
        if self.temp_dir is not None:
            base = os.path.realpath(os.path.join(self.temp_dir, SUBFOLDER))
            path = os.path.realpath(os.path.join(base, name))
            if os.path.dirname(path) != base:
                raise HandoffError("COMFYUI_PROTOCOL", "Remote Output file %r resolves outside %s" % (name, base))
            try:
                with open(path, "rb") as fh:
                    raw = fh.read()
            except OSError as err:
                raise HandoffError("COMFYUI_PROTOCOL", "the Remote Output file %s is gone: %s" % (name, err)) from err
            self._recycle(base, path)  # read once: a spare for the next Remote Output, or deleted
            return raw
        query = urllib.parse.urlencode({"filename": name, "subfolder": sub, "type": type_})
        try:
            with urllib.request.urlopen(self.base_url + "/view?" + query, timeout=self.timeout) as resp:
                raw = resp.read()
            self._release(ref)
            return raw
        except urllib.error.HTTPError as err:
            raise HandoffError("COMFYUI_PROTOCOL", "ComfyUI answered GET /view of %s with HTTP %d: the Remote Output file is gone" % (name, err.code)) from err
        except OSError as err:
            raise HandoffError("COMFYUI_UNAVAILABLE", "cannot read a Remote Output file from ComfyUI: %s" % err) from err
