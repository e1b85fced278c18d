"""A small in-process stand-in for the ``modal`` package, modelled on modal-client 1.x. The tests import
generated projects with it, and ``comfy-remote-modal serve`` runs them locally with it (no Modal).

It models what the generated workflow.py relies on, and is strict where real Modal is strict:
- ``Image``: the real builder signatures (``debian_slim``, ``apt_install``, ``pip_install``,
  ``run_commands``, ``env``, ``workdir``, ``add_local_dir/file/python_source``); ``env`` values must
  be strings; ``add_local_*`` remote paths must be absolute; a build step after a mounted
  ``add_local_*`` (``copy=False``) raises ``InvalidError`` (modal/image.py); the removed
  ``copy_local_dir``/``copy_local_file``/``copy_mount`` do not exist.
- ``App.cls``/``App.function`` accept only current keyword names; the removed ``keep_warm``,
  ``container_idle_timeout``, ``concurrency_limit`` and ``allow_concurrent_inputs`` are refused.
- decorators (``enter``, ``exit``, ``method``, ``asgi_app``, ``fastapi_endpoint``, ``concurrent``)
  must be called with parentheses and take only their real keywords.
- ``Image.run_function`` has the real keyword-only signature (modal/image.py: ``secrets``, ``volumes``,
  ``network_file_systems``, ``gpu``, ``cpu``, ``memory``, ``timeout``, ``cloud``, ``region``,
  ``force_build``, ``args``, ``kwargs``, ``include_source``); it is a build step (refused after a
  mounted ``add_local_*``), records the call without running it, and requires a module-level function
  whose ``args``/``kwargs`` pickle (Modal serializes them and hashes them into the image).
- ``Volume.from_name`` takes ``environment_name``/``create_if_missing``/``version``; ``volumes=`` of
  ``App.cls``/``App.function``/``run_function`` must map absolute paths (not ``/``) to ``Volume``.
- ``Dict`` stores pickled values (a ``get`` returns a copy, as over the network); ``Secret.from_name``
  takes ``environment_name``/``required_keys``.
- ``spawn`` pickles its arguments and result and runs the call in a thread (``_cross``: large ``bytes``
  payloads, immutable, are passed by reference instead of being copied twice); ``FunctionCall.get``
  raises the builtin ``TimeoutError`` when not done (modal/_functions.py ``poll_function``);
  ``cancel`` delivers ``InputCancellation`` inside the running call, like the SIGUSR1 handler of
  modal/_container_entrypoint.py for a sync function; its caller's ``get`` then raises ``RemoteError``
  (``get`` never raises ``InputCancellation``). Finished calls are forgotten after an hour or beyond
  1 GiB of results (bounded memory for ``serve``).
- memory snapshots (modal/app.py, modal/_runtime/user_code_imports.py): ``@modal.enter(snap=True)`` on a
  class without ``enable_memory_snapshot=True`` raises ``InvalidError``; a container runs every
  ``snap=True`` enter first, then the others, each group in definition order (the class ``__dict__``
  along the MRO, as ``_find_partial_methods_for_user_cls``). Setting ``simulate_restore`` on a class
  handle makes its next container behave like one restored from a snapshot: ``MODAL_TASK_ID`` changes
  between the two groups, as ``memory_restore`` overrides it. ``experimental_options`` must be a dict.
"""

import ctypes
import io
import os
import re
import pickle
import threading
import time
import uuid

from . import exception

__all__ = ["App", "Dict", "FunctionCall", "Image", "Secret", "Volume", "asgi_app", "concurrent", "enter", "exception", "exit", "fastapi_endpoint", "method"]

_BUILD_STEPS = ("apt_install", "pip_install", "run_commands", "env", "workdir", "uv_pip_install", "run_function")


def _no_extra(name, kwargs, allowed):
    extra = sorted(set(kwargs) - set(allowed))
    if extra:
        raise TypeError("%s() got unexpected keyword argument(s) %s" % (name, ", ".join(extra)))


def check_object_name(name, object_type):
    """modal/_utils/name_utils.py: alphanumerics, '-', '_', '.'; at most 64 characters."""
    if not (isinstance(name, str) and 0 < len(name) <= 64 and re.match(r"^[a-zA-Z0-9-_.]+$", name)):
        raise exception.InvalidError("Invalid %s name: %r. Names may contain only alphanumeric characters, dashes, periods, and underscores, and must be shorter than 64 characters." % (object_type, name))


def _strings(name, values):
    for v in values:
        if not isinstance(v, str):
            raise exception.InvalidError("%s: expected str arguments, got %r" % (name, v))


class Image:
    def __init__(self, steps=None, mounted=False):
        self.steps = list(steps or [])
        self._mounted = mounted  # an add_local_* without copy=True happened

    def _build(self, name, args, kwargs):
        if self._mounted:
            raise exception.InvalidError(
                "An image tried to run a build step after using `image.add_local_*` to include local files. "
                "Run `image.add_local_*` commands last in your image build, or set `copy=True`."
            )
        return Image(self.steps + [(name, args, kwargs)])

    def _local(self, name, args, kwargs, remote_path=None):
        if remote_path is not None and not remote_path.startswith("/"):
            raise exception.InvalidError("%s: remote_path must be absolute, got %r" % (name, remote_path))
        return Image(self.steps + [(name, args, kwargs)], mounted=self._mounted or not kwargs.get("copy", False))

    @classmethod
    def debian_slim(cls, python_version=None, force_build=False):
        if python_version is not None and python_version not in ("3.9", "3.10", "3.11", "3.12", "3.13"):
            raise exception.InvalidError("unsupported python_version %r" % python_version)
        return cls([("debian_slim", (), {"python_version": python_version})])

    def apt_install(self, *packages, force_build=False, env=None, secrets=None, gpu=None):
        _strings("apt_install", packages)
        return self._build("apt_install", packages, {})

    def pip_install(self, *packages, find_links=None, index_url=None, extra_index_url=None, pre=False, extra_options="", force_build=False, env=None, secrets=None, gpu=None):
        _strings("pip_install", packages)
        kwargs = {k: v for k, v in {"index_url": index_url, "extra_index_url": extra_index_url, "extra_options": extra_options}.items() if v}
        return self._build("pip_install", packages, kwargs)

    def run_commands(self, *commands, env=None, secrets=None, volumes=None, gpu=None, force_build=False):
        _strings("run_commands", commands)
        return self._build("run_commands", commands, {})

    def run_function(self, raw_f, *, secrets=(), volumes={}, network_file_systems={}, gpu=None, cpu=None, memory=None, timeout=60 * 60, cloud=None, region=None, force_build=False, args=(), kwargs={}, include_source=True):  # noqa: B006 - Modal's defaults
        if not callable(raw_f) or "<locals>" in getattr(raw_f, "__qualname__", "<locals>"):
            raise exception.InvalidError("run_function: raw_f must be a function defined at module level")
        if not all(isinstance(s, Secret) for s in secrets):
            raise exception.InvalidError("run_function: secrets must be a list of modal.Secret")
        _check_volumes("run_function", volumes)
        if timeout is not None and not (isinstance(timeout, int) and 0 < timeout <= 86400):
            raise exception.InvalidError("run_function: timeout must be an int of seconds in 1..86400")
        if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
            raise exception.InvalidError("run_function: kwargs must be a dict with str keys")
        pickle.dumps((tuple(args), kwargs))  # Modal serializes them into the build definition
        return self._build("run_function", (raw_f,), {"secrets": list(secrets), "timeout": timeout, "args": tuple(args), "kwargs": kwargs})

    def env(self, vars):  # noqa: A002 - Modal's parameter name
        if not isinstance(vars, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in vars.items()):
            raise exception.InvalidError("Image ENV variables must be strings")
        return self._build("env", (vars,), {})

    def workdir(self, path):
        return self._build("workdir", (str(path),), {})

    def add_local_dir(self, local_path, remote_path, *, copy=False, ignore=()):
        kwargs = {"copy": True} if copy else {}
        return self._local("add_local_dir", (str(local_path), str(remote_path)), kwargs, str(remote_path))

    def add_local_file(self, local_path, remote_path, *, copy=False):
        kwargs = {"copy": True} if copy else {}
        return self._local("add_local_file", (str(local_path), str(remote_path)), kwargs, str(remote_path))

    def add_local_python_source(self, *modules, copy=False, ignore=None):
        _strings("add_local_python_source", modules)
        import importlib.util

        for name in modules:  # real Modal resolves each module locally at deploy time
            if importlib.util.find_spec(name) is None:
                raise exception.ModuleNotMountable("add_local_python_source: module %r is not importable locally" % name)
        kwargs = {"copy": True} if copy else {}
        return self._local("add_local_python_source", modules, kwargs)


def _check_volumes(name, volumes):
    if not isinstance(volumes, dict):
        raise exception.InvalidError("%s: volumes must be a dict of mount path -> modal.Volume" % name)
    for path, volume in volumes.items():
        if not isinstance(path, str) or not path.startswith("/") or path.rstrip("/") == "":
            raise exception.InvalidError("%s: volume mount path must be absolute and not '/', got %r" % (name, path))
        if not isinstance(volume, Volume):
            raise exception.InvalidError("%s: volumes values must be modal.Volume, got %r" % (name, volume))


class Volume:
    _named = {}

    def __init__(self, name):
        self.name = name

    @classmethod
    def from_name(cls, name, *, environment_name=None, create_if_missing=False, version=None, client=None):
        check_object_name(name, "Volume")
        if name not in cls._named:
            if not create_if_missing:
                raise exception.NotFoundError("Volume %r not found" % name)
            cls._named[name] = cls(name)
        return cls._named[name]


class Secret:
    def __init__(self, name, env=None, required_keys=()):
        self.name = name
        self.env = env or {}
        self.required_keys = list(required_keys)

    @classmethod
    def from_name(cls, name, *, environment_name=None, required_keys=(), client=None):
        _strings("Secret.from_name", [name, *required_keys])
        check_object_name(name, "Secret")
        return cls(name, required_keys=required_keys)

    @classmethod
    def from_dict(cls, env_dict):
        return cls("<dict>", env_dict)


class Dict:
    _named = {}
    _lock = threading.Lock()

    def __init__(self):
        self._data = {}

    @classmethod
    def from_name(cls, name, *, environment_name=None, create_if_missing=False, client=None):
        check_object_name(name, "Dict")
        with cls._lock:
            if name not in cls._named:
                if not create_if_missing:
                    raise exception.NotFoundError("Dict %r not found" % name)
                cls._named[name] = cls()
            return cls._named[name]

    def get(self, key, default=None):
        raw = self._data.get(key)
        return default if raw is None else pickle.loads(raw)

    def put(self, key, value, *, skip_if_exists=False):
        if skip_if_exists and key in self._data:
            return False
        self._data[key] = pickle.dumps(value)
        return True

    def __getitem__(self, key):
        return pickle.loads(self._data[key])

    def __setitem__(self, key, value):
        self._data[key] = pickle.dumps(value)

    def __contains__(self, key):
        return key in self._data

    def contains(self, key):
        return key in self._data

    def pop(self, key):
        return pickle.loads(self._data.pop(key))

    def clear(self):
        self._data.clear()


SHARED_BYTES_MIN = 64 * 1024


def _cross(value):
    """(copy of ``value`` as it would arrive over the network, its size in bytes). Everything is pickled
    (what does not pickle fails as in Modal), except ``bytes`` payloads of at least SHARED_BYTES_MIN:
    immutable, so sharing them is indistinguishable from a copy, and ``serve`` skips two copies of every
    image it moves."""
    shared = []

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if type(obj) is bytes and len(obj) >= SHARED_BYTES_MIN:
                shared.append(obj)
                return len(shared) - 1
            return None

    class Unpickler(pickle.Unpickler):
        def persistent_load(self, pid):
            return shared[pid]

    out = io.BytesIO()
    Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    raw = out.getvalue()
    return Unpickler(io.BytesIO(raw)).load(), len(raw) + sum(len(b) for b in shared)


class FunctionCall:
    """A spawned call running in a thread. Finished calls are kept ``keep_seconds`` (Modal keeps outputs
    for a while too) and at most ``keep_bytes`` of pickled results in all; older ones are forgotten, so
    ``comfy-remote-modal serve`` runs in bounded memory."""

    _calls = {}
    _lock = threading.Lock()
    keep_seconds = 3600.0
    keep_bytes = 1 << 30

    def __init__(self, fn, args, kwargs):
        self.object_id = "fc-" + uuid.uuid4().hex[:20]
        self._done = threading.Event()
        self._result = None
        self._error = None
        self._running = threading.Event()
        self._finished_at = None
        self._size = 0
        self.cancelled = False
        (args, kwargs), _ = _cross((args, kwargs))  # inputs cross the network
        FunctionCall._forget_old()
        with FunctionCall._lock:
            FunctionCall._calls[self.object_id] = self
        self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs), daemon=True)
        self._thread.start()

    def _run(self, fn, args, kwargs):
        try:
            self._running.set()
            self._result, self._size = _cross(fn(*args, **kwargs))  # the result crosses the network
        except BaseException as exc:  # noqa: BLE001 - stored for get()
            self._error = exc
        finally:
            self._running.clear()
            self._finished_at = time.monotonic()
            self._done.set()

    @classmethod
    def _forget_old(cls):
        with cls._lock:
            finished = sorted((c for c in cls._calls.values() if c._finished_at is not None), key=lambda c: c._finished_at)
            total = sum(c._size for c in finished)
            now = time.monotonic()
            for call in finished:
                if now - call._finished_at <= cls.keep_seconds and total <= cls.keep_bytes:
                    break
                total -= call._size
                del cls._calls[call.object_id]

    @classmethod
    def from_id(cls, function_call_id, client=None):
        with cls._lock:
            call = cls._calls.get(function_call_id)
        if call is None:
            raise exception.NotFoundError("FunctionCall %s not found (unknown, or its output expired)" % function_call_id)
        return call

    def get(self, timeout=None):
        if not self._done.wait(timeout):
            raise TimeoutError()  # builtin, as modal/_functions.py _Invocation.poll_function
        if isinstance(self._error, exception.InputCancellation):
            # Only the running function sees InputCancellation; its caller gets a RemoteError.
            raise exception.RemoteError("Function call %s was cancelled" % self.object_id)
        if self._error is not None:
            raise self._error
        return self._result

    def cancel(self, terminate_containers=False):
        self.cancelled = True
        if self._running.is_set() and not self._done.is_set():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread.ident), ctypes.py_object(exception.InputCancellation))


class _Handle:
    """A deployed function or method: remote/local/spawn."""

    def __init__(self, fn):
        self._fn = fn

    def remote(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def local(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def spawn(self, *args, **kwargs):
        return FunctionCall(self._fn, args, kwargs)

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)


def _decorator(attr, allowed):
    def factory(_warn_parentheses_missing=None, **kwargs):
        if _warn_parentheses_missing is not None:
            raise exception.InvalidError("Did you forget parentheses? Suggestion: `@modal.%s()`." % attr.strip("_").replace("modal_", ""))
        _no_extra(attr, kwargs, allowed)

        def decorator(fn):
            setattr(fn, attr, kwargs or True)
            return fn

        return decorator

    return factory


method = _decorator("_modal_method", ("is_generator",))
enter = _decorator("_modal_enter", ("snap",))
exit = _decorator("_modal_exit", ())  # noqa: A001 - Modal's name
asgi_app = _decorator("_modal_asgi_app", ("label", "custom_domains", "requires_proxy_auth"))
fastapi_endpoint = _decorator("_modal_fastapi_endpoint", ("method", "label", "custom_domains", "docs", "requires_proxy_auth"))
_concurrent = _decorator("_modal_concurrent", ("max_inputs", "target_inputs"))


def concurrent(_warn_parentheses_missing=None, *, max_inputs=None, target_inputs=None):
    if max_inputs is None and _warn_parentheses_missing is None:
        raise TypeError("concurrent() missing required keyword argument: 'max_inputs'")
    kwargs = {"max_inputs": max_inputs} if target_inputs is None else {"max_inputs": max_inputs, "target_inputs": target_inputs}
    return _concurrent(_warn_parentheses_missing, **kwargs)


def _lifecycle_methods(user_cls, attr):
    """{name: flags} of the methods marked ``attr``, in definition order along the MRO (as Modal)."""
    found = {}
    for parent in reversed(user_cls.__mro__):
        if parent is not object:
            for name, value in parent.__dict__.items():
                flags = getattr(value, attr, None)
                if flags:
                    found[name] = flags
    return found


def _is_snap(flags):
    return isinstance(flags, dict) and bool(flags.get("snap"))


class _ClsHandle:
    """``Cls()`` gives an object whose methods are handles; one container instance, entered once."""

    def __init__(self, user_cls, options):
        self._user_cls = user_cls
        self.options = options
        self._instance = None
        self._lock = threading.Lock()
        self.simulate_restore = False
        self.enter_log = []  # names of the enter methods in the order the last container ran them

    def _container(self):
        with self._lock:
            if self._instance is None:
                obj = self._user_cls()
                enters = _lifecycle_methods(self._user_cls, "_modal_enter")
                os.environ.setdefault("MODAL_TASK_ID", "ta-local-" + uuid.uuid4().hex[:12])
                self.enter_log = []
                for name in [n for n, flags in enters.items() if _is_snap(flags)]:
                    self.enter_log.append(name)
                    getattr(obj, name)()
                if self.simulate_restore and self.options.get("enable_memory_snapshot"):
                    os.environ["MODAL_TASK_ID"] = "ta-restored-" + uuid.uuid4().hex[:12]
                for name in [n for n, flags in enters.items() if not _is_snap(flags)]:
                    self.enter_log.append(name)
                    getattr(obj, name)()
                self._instance = obj
            return self._instance

    def __call__(self, *args, **kwargs):
        handle = self

        class _Obj:
            def __getattr__(self, name):
                attr = getattr(handle._user_cls, name)
                if getattr(attr, "_modal_method", None):
                    return _Handle(lambda *a, **k: getattr(handle._container(), name)(*a, **k))
                raise AttributeError(name)

        return _Obj()

    def _shutdown(self):
        if self._instance is not None:
            for name in _lifecycle_methods(self._user_cls, "_modal_exit"):
                getattr(self._instance, name)()
            self._instance = None


_COMMON = (
    "image", "secrets", "gpu", "cpu", "memory", "timeout", "startup_timeout", "min_containers", "max_containers",
    "buffer_containers", "scaledown_window", "volumes", "network_file_systems", "cloud", "region", "nonpreemptible",
    "enable_memory_snapshot", "block_network", "restrict_modal_access", "retries", "proxy", "single_use_containers",
    "serialized", "ephemeral_disk", "include_source", "experimental_options", "name",
)
_REMOVED = ("keep_warm", "container_idle_timeout", "concurrency_limit", "allow_concurrent_inputs", "mounts")


def _check_options(kind, options):
    removed = sorted(set(options) & set(_REMOVED))
    if removed:
        raise exception.InvalidError("App.%s: %s no longer exist; use min_containers, scaledown_window, max_containers, @modal.concurrent and Image.add_local_*" % (kind, ", ".join(removed)))
    _no_extra("App." + kind, options, _COMMON + (("schedule", "max_inputs") if kind == "function" else ()))
    for key in ("timeout", "startup_timeout", "scaledown_window"):
        if key in options and not (isinstance(options[key], int) and 0 < options[key] <= 86400):
            raise exception.InvalidError("%s must be an int of seconds in 1..86400 (Modal's 24 h limit)" % key)
    if "scaledown_window" in options and not 2 <= options["scaledown_window"] <= 3600:
        raise exception.InvalidError("scaledown_window must be between 2 and 3600")
    if "secrets" in options and not all(isinstance(s, Secret) for s in options["secrets"]):
        raise exception.InvalidError("secrets must be a list of modal.Secret")
    if "volumes" in options:
        _check_volumes("App." + kind, options["volumes"])
    if "enable_memory_snapshot" in options and not isinstance(options["enable_memory_snapshot"], bool):
        raise exception.InvalidError("enable_memory_snapshot must be True or False")
    experimental = options.get("experimental_options")
    if experimental is not None and not (isinstance(experimental, dict) and all(isinstance(k, str) for k in experimental)):
        raise exception.InvalidError("experimental_options must be a dict with str keys")


class App:
    def __init__(self, name=None, **kwargs):
        if name is not None:
            check_object_name(name, "App")
        self.name = name
        self.functions = {}
        self.classes = {}

    def function(self, _warn_parentheses_missing=None, **options):
        if _warn_parentheses_missing is not None:
            raise exception.InvalidError("Did you forget parentheses? Suggestion: `@app.function()`.")
        _check_options("function", options)

        def decorator(fn):
            handle = _Handle(fn)
            handle.options = options
            self.functions[fn.__name__] = handle
            return handle

        return decorator

    def cls(self, _warn_parentheses_missing=None, **options):
        if _warn_parentheses_missing is not None:
            raise exception.InvalidError("Did you forget parentheses? Suggestion: `@app.cls()`.")
        _check_options("cls", options)

        def decorator(user_cls):
            snaps = [n for n, flags in _lifecycle_methods(user_cls, "_modal_enter").items() if _is_snap(flags)]
            if snaps and not options.get("enable_memory_snapshot"):
                raise exception.InvalidError("A class must have `enable_memory_snapshot=True` to use `snap=True` on its methods.")
            handle = _ClsHandle(user_cls, options)
            self.classes[user_cls.__name__] = handle
            return handle

        return decorator

    def local_entrypoint(self, **options):
        return lambda fn: fn


def is_local():
    return os.environ.get("MODAL_IS_REMOTE") != "1"
