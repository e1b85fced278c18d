"""Values by reference for the web app (protocol section 1.1), the same rules as the mock worker.

- Inputs ``{"encoding": "npy"|"png"|"file", "ref": "https://..."}`` are fetched before the job is
  spawned: https only (``allow_http_refs`` for development), every address the host resolves to must be
  public (no loopback/private/link-local/metadata/unique-local/CGNAT; ``allow_private_refs`` for
  development), the connection goes to the checked address (no DNS-rebinding window), each redirect is
  checked again (at most 5), size and time are bounded. Errors: REF_REFUSED, REF_FETCH_FAILED,
  REF_TOO_LARGE, each naming the field.
- Outputs: with ``"output_refs": true`` every binary output above 1 MiB is answered as
  ``{..., "ref": "/jobs/<id>/outputs/<name>", "bytes": n}``; ``GET`` that path serves the raw bytes with
  Range support (206 / 416).
"""

import base64
import http.client
import ipaddress
import socket
import ssl
import time
import urllib.parse

from comfy_wire import WireError

BINARY = ("npy", "png", "file")
OUTPUT_REF_MIN_BYTES = 1024 * 1024
REDIRECTS = (301, 302, 303, 307, 308)
_EMBEDDING = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32")]


class RefPolicy:
    def __init__(self, allow_private=False, allow_http=False, max_bytes=4 << 30, timeout=120.0, max_redirects=5, address_filter=None):
        self.allow_private = allow_private
        self.allow_http = allow_http
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.address_filter = address_filter  # tests only: replaces the public-address rule


def is_public_address(text):
    """True for a public unicast address; IPv6 forms embedding IPv4 (mapped, NAT64, 6to4, Teredo) are refused."""
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif any(ip in net for net in _EMBEDDING):
            return False
    return ip.is_global and not ip.is_multicast


def _allowed(policy, address):
    if policy.address_filter is not None:
        return policy.address_filter(address)
    return policy.allow_private or is_public_address(address)


def _refused(field, message, **details):
    return WireError("REF_REFUSED", "%s.ref: %s" % (field, message), 400, dict(field=field, **details))


def check_url(raw, policy, field):
    """Scheme and shape of a ref URL (and an IP-literal host); raises REF_REFUSED naming the field."""
    url = urllib.parse.urlsplit(raw)
    if url.scheme not in ("https", "http") or not url.hostname:
        raise _refused(field, "%r is not an absolute https:// URL" % raw[:200])
    if url.scheme == "http" and not policy.allow_http:
        raise _refused(field, "scheme http: is not allowed; give an https:// URL (allow_http_refs is for local development)", url="http://" + url.netloc.rsplit("@", 1)[-1])
    host = url.hostname
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    if literal and not _allowed(policy, host):
        raise _refused(field, "%s is a private, loopback or link-local address; refs must point to public hosts" % host, host=host)
    return url


def _resolve(url, policy, field):
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(url.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise WireError("REF_FETCH_FAILED", "%s.ref: cannot resolve %s (%s)" % (field, url.hostname, exc), 502, {"field": field}) from exc
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        if not _allowed(policy, address):
            raise _refused(field, "%s resolves to %s, a private, loopback or link-local address; refs must point to public hosts" % (url.hostname, address), host=url.hostname, address=address)
    return addresses[0], port


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def fetch_ref(raw, field, policy):
    """The bytes behind an input ref (see the module docstring)."""
    deadline = time.monotonic() + policy.timeout
    url = check_url(raw, policy, field)
    for hop in range(policy.max_redirects + 1):
        address, port = _resolve(url, policy, field)
        remaining = max(0.1, deadline - time.monotonic())
        conn = (_PinnedHTTPS if url.scheme == "https" else _PinnedHTTP)(url.hostname, port, address, remaining)
        try:
            path = urllib.parse.urlunsplit(("", "", url.path or "/", url.query, ""))
            conn.request("GET", path, headers={"User-Agent": "comfy-remote-modal-worker", "Accept": "*/*"})
            resp = conn.getresponse()
            if resp.status in REDIRECTS and resp.getheader("location"):
                url = check_url(urllib.parse.urljoin(urllib.parse.urlunsplit(url), resp.getheader("location")), policy, field)
                continue
            if not 200 <= resp.status < 300:
                raise WireError("REF_FETCH_FAILED", "%s.ref: %s answered HTTP %d" % (field, url.hostname, resp.status), 502, {"field": field, "status": resp.status})
            declared = resp.getheader("content-length")
            if declared and declared.isdigit() and int(declared) > policy.max_bytes:
                raise _too_large(field, policy)
            body = bytearray()
            while True:
                if time.monotonic() > deadline:
                    raise WireError("REF_FETCH_FAILED", "%s.ref: not complete within %g s" % (field, policy.timeout), 502, {"field": field})
                chunk = resp.read(1 << 20)
                if not chunk:
                    return bytes(body)
                body += chunk
                if len(body) > policy.max_bytes:
                    raise _too_large(field, policy)
        except (OSError, http.client.HTTPException) as exc:
            why = "no answer within %g s" % policy.timeout if isinstance(exc, socket.timeout) else str(exc)
            raise WireError("REF_FETCH_FAILED", "%s.ref: fetching %s failed: %s" % (field, url.hostname, why), 502, {"field": field}) from exc
        finally:
            conn.close()
    raise WireError("REF_FETCH_FAILED", "%s.ref: more than %d redirects" % (field, policy.max_redirects), 502, {"field": field})


def _too_large(field, policy):
    return WireError("REF_TOO_LARGE", "%s.ref: the resource is larger than the limit of %d bytes; send a smaller one" % (field, policy.max_bytes), 413, {"field": field, "limit": policy.max_bytes})


def resolve_input_refs(inputs, policy):
    """Fetch every input (or nested object/list item) given by ``ref``; its bytes go into ``data``."""
    stack = [("inputs.%s" % name, value) for name, value in inputs.items()]
    while stack:
        field, value = stack.pop()
        if not isinstance(value, dict):
            continue
        if isinstance(value.get("ref"), str) and value.get("ref") and value.get("data") is None:
            if value.get("encoding") not in BINARY:
                raise WireError("BAD_REQUEST", "%s.ref: only npy, png and file values can be given by ref; put the value in data" % field)
            check_url(value["ref"], policy, field)
            value["data"] = fetch_ref(value["ref"], field, policy)
            value.pop("ref", None)
            value.pop("bytes", None)
        elif value.get("encoding") in ("object", "list") and isinstance(value.get("data"), (dict, list)):
            data = value["data"]
            items = data.items() if isinstance(data, dict) else enumerate(data)
            stack.extend(("%s.%s" % (field, key), item) for key, item in items)


def payload(value):
    """The raw bytes of a binary value (bytes or base64 text), or None when it is not one."""
    if not isinstance(value, dict) or value.get("encoding") not in BINARY:
        return None
    data = value.get("data")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return base64.b64decode(data)
    return None


def _size(value):
    if not isinstance(value, dict) or value.get("encoding") not in BINARY:
        return None
    data = value.get("data")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data)
    if isinstance(data, str):
        return len(data) * 3 // 4 - (2 if data.endswith("==") else 1 if data.endswith("=") else 0)
    return None


def ref_path(job_id, path):
    return "/jobs/%s/outputs/%s" % (urllib.parse.quote(job_id, safe=""), "/".join(urllib.parse.quote(str(p), safe="") for p in path))


def _to_refs(value, job_id, path):
    size = _size(value)
    if size is not None:
        if size <= OUTPUT_REF_MIN_BYTES:
            return value
        out = {k: v for k, v in value.items() if k != "data"}
        out.update(ref=ref_path(job_id, path), bytes=size)
        return out
    if isinstance(value, dict) and value.get("encoding") in ("object", "list"):
        data = value.get("data")
        if isinstance(data, dict):
            return dict(value, data={k: _to_refs(v, job_id, path + [k]) for k, v in data.items()})
        if isinstance(data, list):
            return dict(value, data=[_to_refs(v, job_id, path + [str(i)]) for i, v in enumerate(data)])
    return value


def envelope_with_refs(env, job_id):
    """The envelope with large binary outputs (and result) as refs."""
    outputs = env.get("outputs")
    if not outputs:
        return env
    out = dict(env, outputs={name: _to_refs(v, job_id, [name]) for name, v in outputs.items()})
    if "result" in env:
        first = next((n for n, v in outputs.items() if v is env["result"]), None)
        out["result"] = out["outputs"][first] if first is not None else _to_refs(env["result"], job_id, [next(iter(outputs))])
    return out


def find_output(outputs, path):
    node = outputs.get(path[0]) if path else None
    for key in path[1:]:
        if not isinstance(node, dict) or node.get("encoding") not in ("object", "list"):
            return None
        data = node.get("data")
        if isinstance(data, dict):
            node = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            node = data[int(key)]
        else:
            return None
    return node


def parse_range(header, size):
    """(start, end) inclusive, None (serve whole), or "unsatisfiable" (RFC 9110 single byte range)."""
    if not header:
        return None
    text = header.strip()
    if not text.startswith("bytes=") or "," in text:
        return None
    first, _, last = text[6:].partition("-")
    if not (first.isdigit() or first == "") or not (last.isdigit() or last == "") or (first == "" and last == ""):
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    start = int(first)
    if start >= size:
        return "unsatisfiable"
    end = size - 1 if last == "" else min(int(last), size - 1)
    if end < start:
        return None
    return start, end


def content_type(value):
    if value.get("encoding") == "png":
        return "image/png"
    mime = value.get("mime")
    if value.get("encoding") == "file" and isinstance(mime, str) and "/" in mime and len(mime) < 100 and "\n" not in mime:
        return mime
    return "application/octet-stream"
