"""Standard Webhooks for the generated app: the same contract as the mock worker (docs/protocol.md 10).

Delivery state lives in the job store (the app's modal.Dict) under ``webhook:<job_id>``, so whichever
container drives it (the ``deliver_webhooks`` function spawned at submit) can resume after another
stopped: the message id of each event is stored before the first attempt and reused by every retry.
Only the standard library is used.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import random
import socket
import ssl
import time
import urllib.parse
import uuid

from comfy_wire import TERMINAL, WireError

EVENTS = ("completed", "failed", "cancelled", "progress")
DEFAULT_EVENTS = ("completed", "failed", "cancelled")
SECRET_ENV = "COMFY_REMOTE_WEBHOOK_SECRET"
URL_ENV = "COMFY_REMOTE_WEBHOOK_URL"
DEFAULTS = {
    "timeout_seconds": 5.0,
    "max_attempts": 8,
    "max_total_seconds": 600.0,
    "backoff_seconds": 1.0,
    "max_backoff_seconds": 60.0,
    "progress_interval_seconds": 1.0,
    "max_response_bytes": 4096,
}


def parse_secret(secret):
    """Key bytes of a ``whsec_<base64>`` secret; ValueError naming the problem (never the secret)."""
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise ValueError("the webhook secret must look like whsec_<base64> (Standard Webhooks form)")
    try:
        key = base64.b64decode(secret[6:], validate=True)
    except ValueError:
        raise ValueError("the part of the webhook secret after whsec_ must be base64") from None
    if len(key) < 16:
        raise ValueError("the webhook secret must hold at least 16 bytes")
    return key


def sign(key, msg_id, timestamp, body):
    """Standard Webhooks headers: v1,<base64 HMAC-SHA256 of "id.timestamp.body">."""
    mac = hmac.new(key, ("%s.%d." % (msg_id, timestamp)).encode() + body, hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def address_class(address):
    """'public', 'loopback' or 'private' (private, link-local/metadata, reserved, multicast, ...)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "private"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if (ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified
            or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"))):
        return "private"
    return "public"


def _refusal(address):
    if address_class(address) == "loopback":
        return "address %s is loopback; allowed only with allow_loopback_webhooks (local development)" % address
    return "address %s is private, link-local or reserved; webhooks go only to public addresses" % address


def check_url(raw, allow_loopback=False):
    """The parsed URL, or WireError WEBHOOK_REFUSED: https only, no credentials, no private literal IP."""
    def refuse(why):
        return WireError("WEBHOOK_REFUSED", "webhook.url: %s" % why)

    parts = urllib.parse.urlsplit(raw) if isinstance(raw, str) else None
    if parts is None or not parts.scheme or not parts.hostname:
        raise refuse("%r is not an absolute URL; use https://host/path" % (raw,))
    if parts.scheme not in ("https", "http"):
        raise refuse("%s:// URLs are not allowed; use https://" % parts.scheme)
    if parts.scheme == "http" and not allow_loopback:
        raise refuse("http:// webhooks are refused: use https:// (plain http only to loopback with allow_loopback_webhooks, for local development)")
    if parts.username or parts.password:
        raise refuse("credentials in the URL are not allowed; authenticate with the webhook signature")
    try:
        ipaddress.ip_address(parts.hostname.split("%", 1)[0])
        literal = True
    except ValueError:
        literal = False
    if literal and not _allowed(parts.hostname, allow_loopback):
        raise refuse(_refusal(parts.hostname))
    return parts


def _allowed(address, allow_loopback):
    kind = address_class(address)
    return kind == "public" or (kind == "loopback" and allow_loopback)


def _resolve(host, port, resolver):
    return [info[4][0] for info in resolver(host, port, 0, socket.SOCK_STREAM)]


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address, with SNI and certificate checks for the URL's host name."""

    def __init__(self, host, address, port, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, address, port, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def retry_after_seconds(value, now=None):
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(value).timestamp() - (now or time.time()))
    except (TypeError, ValueError):
        return None


def post(url, headers, body, timeout, allow_loopback=False, resolver=socket.getaddrinfo, max_response_bytes=4096):
    """One attempt: resolve, refuse disallowed addresses (connecting to the checked one), no redirects,
    the answer read up to max_response_bytes and ignored. Returns a dict {ok, status?, retry_after?,
    error?, permanent?}."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = _resolve(parts.hostname, port, resolver)
    except OSError as exc:
        return {"ok": False, "error": "cannot resolve %s: %s" % (parts.hostname, exc)}
    for address in addresses:
        if not _allowed(address, allow_loopback):
            return {"ok": False, "permanent": True, "error": "WEBHOOK_REFUSED: %s resolves to %s" % (parts.hostname, _refusal(address))}
        if parts.scheme == "http" and address_class(address) != "loopback":
            return {"ok": False, "permanent": True, "error": "WEBHOOK_REFUSED: http:// is allowed only to loopback addresses; %s resolves to %s" % (parts.hostname, address)}
    if not addresses:
        return {"ok": False, "error": "cannot resolve %s: no addresses" % parts.hostname}
    cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = cls(parts.hostname, addresses[0], port, timeout)
    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers=dict(headers, **{"Content-Length": str(len(body))}))
        resp = conn.getresponse()
        resp.read(max_response_bytes)  # ignored; the connection is closed below
        status = resp.status
        result = {"ok": 200 <= status < 300, "status": status}
        wait = retry_after_seconds(resp.getheader("retry-after"))
        if wait is not None:
            result["retry_after"] = wait
        if not result["ok"]:
            if 300 <= status < 400:
                result["error"] = "the receiver answered %d (a redirect); redirects are not followed, configure the final URL" % status
                result["permanent"] = True
            else:
                result["error"] = "the receiver answered HTTP %d" % status
        return result
    except socket.timeout:
        return {"ok": False, "error": "no answer within %g s" % timeout}
    except (OSError, http.client.HTTPException) as exc:
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    finally:
        conn.close()


def without_large_values(env, limit, size_of):
    if "outputs" in env and size_of(env["outputs"]) > limit:
        env = dict((k, v) for k, v in env.items() if k not in ("outputs", "result"))
        env["values_omitted"] = True
    return env


class Webhooks:
    """Webhook set-up (secret, default URL) and the delivery state machine over the job store."""

    def __init__(self, store, secret=None, default_url=None, allow_loopback=False, options=None, resolver=socket.getaddrinfo, rand=random.random):
        self.store = store
        self.key = parse_secret(secret) if secret else None
        self.allow_loopback = allow_loopback
        self.options = dict(DEFAULTS, **(options or {}))
        self.resolver = resolver
        self.rand = rand
        if default_url and self.key is None:
            raise ValueError("a default webhook URL needs the signing secret %s in the app's Secret" % SECRET_ENV)
        self.default = None
        if default_url:
            try:
                check_url(default_url, allow_loopback)
            except WireError as exc:
                raise ValueError(exc.message) from None
            self.default = {"url": default_url, "events": list(DEFAULT_EVENTS)}

    def target(self, body):
        """The request's ``webhook`` ({url, events?} or a URL) or the default; WireError on bad fields."""
        raw = body.get("webhook") if isinstance(body, dict) else None
        if raw is None:
            return self.default
        spec = {"url": raw} if isinstance(raw, str) else raw
        if not isinstance(spec, dict):
            raise WireError("BAD_REQUEST", 'webhook: expected {"url": "https://...", "events": [...]}, got %s' % type(raw).__name__)
        url, events = spec.get("url"), spec.get("events")
        if not isinstance(url, str) or not url:
            raise WireError("BAD_REQUEST", "webhook.url: missing; give the https:// URL of your receiver")
        if self.key is None:
            raise WireError(
                "WEBHOOK_NOT_CONFIGURED",
                "webhook: this app has no webhook signing secret, so it cannot send signed webhooks. Add %s=whsec_... to the app's auth Secret and redeploy, or leave webhook out and follow the job by SSE or polling." % SECRET_ENV,
            )
        check_url(url, self.allow_loopback)
        if events is None:
            events = list(DEFAULT_EVENTS)
        if not isinstance(events, list) or not events:
            raise WireError("BAD_REQUEST", "webhook.events: expected a non-empty list of %s" % ", ".join(EVENTS))
        for i, event in enumerate(events):
            if event not in EVENTS:
                raise WireError("BAD_REQUEST", "webhook.events[%d]: unknown event %s; use %s" % (i, json.dumps(event), ", ".join(EVENTS)))
        return {"url": url, "events": list(events)}

    def register(self, job_id, target):
        self.store["webhook:" + job_id] = {"url": target["url"], "events": target["events"], "status": {"delivered": False, "attempts": 0, "last_error": None}}

    def status(self, job_id):
        record = self.store.get("webhook:" + job_id)
        return None if record is None else record["status"]

    def _attempt(self, record, msg_id, body):
        headers = {"Content-Type": "application/json", "User-Agent": "comfy-remote-webhooks/1"}
        headers.update(sign(self.key, msg_id, int(time.time()), body))
        return post(record["url"], headers, body, self.options["timeout_seconds"], self.allow_loopback, self.resolver, self.options["max_response_bytes"])

    def deliver_progress(self, job_id, env, body):
        """One best-effort attempt of a `progress` event (new id); returns the status."""
        record = self.store.get("webhook:" + job_id)
        result = self._attempt(record, "msg_" + uuid.uuid4().hex, body)
        record["status"] = {"delivered": result["ok"], "attempts": 1, "last_error": None if result["ok"] else result.get("error")}
        self.store["webhook:" + job_id] = record
        return record["status"]

    def deliver_terminal(self, job_id, env, body, sleep=time.sleep):
        """Delivers the terminal event at least once: the same id on every retry, backoff with jitter,
        Retry-After honoured, bounded attempts and time. State is saved after every attempt."""
        o = self.options
        record = self.store.get("webhook:" + job_id)
        if record is None or env["status"] not in record["events"]:
            return None
        state = record.get("terminal") or {"id": "msg_" + uuid.uuid4().hex, "first": time.time(), "attempts": 0}
        record["terminal"] = state
        status = {"delivered": False, "attempts": state["attempts"], "last_error": record["status"].get("last_error") if state["attempts"] else None}
        while not record.get("done"):
            state["attempts"] += 1
            result = self._attempt(record, state["id"], body)
            status = {"delivered": result["ok"], "attempts": state["attempts"], "last_error": None if result["ok"] else result.get("error")}
            backoff = min(o["max_backoff_seconds"], o["backoff_seconds"] * 2 ** (state["attempts"] - 1))
            delay = min(o["max_backoff_seconds"], result["retry_after"] if "retry_after" in result else backoff * (0.5 + self.rand() / 2))
            last = result["ok"] or result.get("permanent") or state["attempts"] >= o["max_attempts"] or time.time() + delay > state["first"] + o["max_total_seconds"]
            if last and not result["ok"] and not result.get("permanent"):
                status["last_error"] = "%s; gave up after %d attempts" % (status["last_error"], state["attempts"])
            record["status"] = status
            record["done"] = bool(last)
            self.store["webhook:" + job_id] = record
            if not last:
                sleep(delay)
        return status


def drive(webhooks, job_id, envelope_of, body_of, poll_seconds=1.0, sleep=time.sleep, deadline=None):
    """Follow one job until it ends, sending its events: `progress` (if asked, at most one per
    progress_interval, newest state) and then the terminal one. ``envelope_of(job_id)`` reads the job,
    ``body_of(env, event)`` makes the signed body. Used by the app's deliver_webhooks function."""
    record = webhooks.store.get("webhook:" + job_id)
    if record is None or record.get("done"):
        return None
    last_progress, last_sent = None, 0.0
    while True:
        env = envelope_of(job_id)
        if env["status"] in TERMINAL:
            return webhooks.deliver_terminal(job_id, env, body_of(env, env["status"]), sleep)
        if "progress" in record["events"] and env["status"] == "running":
            seen = json.dumps(env.get("progress"), sort_keys=True)
            if seen != last_progress and time.monotonic() - last_sent >= webhooks.options["progress_interval_seconds"]:
                last_progress, last_sent = seen, time.monotonic()
                webhooks.deliver_progress(job_id, env, body_of(env, "progress"))
        if deadline is not None and time.monotonic() > deadline:
            return None
        sleep(poll_seconds)
