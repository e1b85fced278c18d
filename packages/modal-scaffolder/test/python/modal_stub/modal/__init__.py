"""A small in-process stand-in for the ``modal`` package, written from Modal's public API.

Enough for the generated workflow.py to import, build its image description, and serve requests:
App (function/cls decorators), Image (chainable builder that records its steps), Secret, Dict
(in-memory, shared by name), Function/method handles with ``spawn`` (runs in a thread), FunctionCall
(``from_id``, ``get(timeout=...)``, ``cancel``), and the enter/exit/method/asgi_app/fastapi_endpoint/
concurrent decorators. ``spawn`` runs the call in a background thread of this process.
"""

import threading
import uuid

from . import exception

__all__ = ["App", "Dict", "FunctionCall", "Image", "Secret", "asgi_app", "concurrent", "enter", "exception", "exit", "fastapi_endpoint", "method"]


class Image:
    def __init__(self, steps=None):
        self.steps = list(steps or [])

    def _add(self, name, *args, **kwargs):
        return Image(self.steps + [(name, args, kwargs)])

    @classmethod
    def debian_slim(cls, python_version=None, force_build=False):
        return cls([("debian_slim", (), {"python_version": python_version})])

    def __getattr__(self, name):
        if name in ("apt_install", "pip_install", "run_commands", "env", "add_local_dir", "add_local_file", "add_local_python_source", "workdir", "uv_pip_install", "run_function"):
            return lambda *args, **kwargs: self._add(name, *args, **kwargs)
        raise AttributeError(name)


class Secret:
    def __init__(self, name, env=None):
        self.name = name
        self.env = env or {}

    @classmethod
    def from_name(cls, name, **kwargs):
        return cls(name)

    @classmethod
    def from_dict(cls, env):
        return cls("<dict>", env)


class Dict:
    _named = {}
    _lock = threading.Lock()

    def __init__(self):
        self._data = {}

    @classmethod
    def from_name(cls, name, create_if_missing=False, **kwargs):
        with cls._lock:
            if name not in cls._named:
                if not create_if_missing:
                    raise exception.NotFoundError("Dict %r not found" % name)
                cls._named[name] = cls()
            return cls._named[name]

    def get(self, key, default=None):
        return self._data.get(key, default)

    def put(self, key, value):
        self._data[key] = value

    def __getitem__(self, key):
        return self._data[key]

    def __setitem__(self, key, value):
        self._data[key] = value

    def __contains__(self, key):
        return key in self._data

    def contains(self, key):
        return key in self._data

    def pop(self, key):
        return self._data.pop(key)

    def clear(self):
        self._data.clear()


class FunctionCall:
    _calls = {}

    def __init__(self, fn, args, kwargs):
        self.object_id = "fc-" + uuid.uuid4().hex[:20]
        self._done = threading.Event()
        self._result = None
        self._error = None
        self.cancelled = False
        FunctionCall._calls[self.object_id] = self
        self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs), daemon=True)
        self._thread.start()

    def _run(self, fn, args, kwargs):
        try:
            self._result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - stored for get()
            self._error = exc
        finally:
            self._done.set()

    @classmethod
    def from_id(cls, function_call_id):
        if function_call_id not in cls._calls:
            raise exception.NotFoundError("FunctionCall %s not found" % function_call_id)
        return cls._calls[function_call_id]

    def get(self, timeout=None):
        if not self._done.wait(timeout):
            raise exception.TimeoutError("not done")  # Modal raises its TimeoutError here
        if self._error is not None:
            raise self._error
        return self._result

    def cancel(self, terminate_containers=False):
        self.cancelled = True


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


def _mark(attr):
    def decorator_factory(*dargs, **dkwargs):
        def decorator(fn):
            setattr(fn, attr, dkwargs or True)
            return fn

        if len(dargs) == 1 and callable(dargs[0]) and not dkwargs:
            return decorator(dargs[0])
        return decorator

    return decorator_factory


method = _mark("_modal_method")
enter = _mark("_modal_enter")
exit = _mark("_modal_exit")  # noqa: A001 - Modal's name
concurrent = _mark("_modal_concurrent")
asgi_app = _mark("_modal_asgi_app")
fastapi_endpoint = _mark("_modal_fastapi_endpoint")
web_endpoint = fastapi_endpoint


class _ClsHandle:
    """``Cls()`` gives an object whose methods are handles; one container instance, entered once."""

    def __init__(self, user_cls, options):
        self._user_cls = user_cls
        self.options = options
        self._instance = None
        self._lock = threading.Lock()

    def _container(self):
        with self._lock:
            if self._instance is None:
                obj = self._user_cls()
                for name in dir(self._user_cls):
                    if getattr(getattr(self._user_cls, name), "_modal_enter", None):
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
            for name in dir(self._user_cls):
                if getattr(getattr(self._user_cls, name), "_modal_exit", None):
                    getattr(self._instance, name)()
            self._instance = None


class App:
    def __init__(self, name=None, **kwargs):
        self.name = name
        self.functions = {}
        self.classes = {}
        self.function_options = {}

    def function(self, **options):
        def decorator(fn):
            handle = _Handle(fn)
            handle.options = options
            self.functions[fn.__name__] = handle
            return handle

        return decorator

    def cls(self, **options):
        def decorator(user_cls):
            handle = _ClsHandle(user_cls, options)
            self.classes[user_cls.__name__] = handle
            return handle

        return decorator

    def local_entrypoint(self, **options):
        return lambda fn: fn
