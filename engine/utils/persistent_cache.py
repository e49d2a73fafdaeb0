"""PersistentCacheOnServer: MegEngine's persistent key-value cache (its fastrun algorithm
cache), on a redis server, a file or memory.

engine has one algorithm per op and profiles none, so nothing in engine writes to it; it is a
working byte store for the code that uses it. The backend is chosen on first use, in order:
redis when ``MGE_FASTRUN_CACHE_URL`` is set (and the ``redis`` package is installed), else the
file ``$MGE_FASTRUN_CACHE_DIR/cache.bin`` (default ``~/.cache/megengine/persistent_cache``),
else memory; ``MGE_FASTRUN_CACHE_TYPE=FILE`` or ``MEMORY`` forces one. A file cache is
written back (under a lock file) when the object is flushed or deleted, and only if it
changed.
"""
import collections
import contextlib
import os
import pickle
import urllib.parse

from ..logger import get_logger

__all__ = ["PersistentCacheOnServer"]

CacheConfig = collections.namedtuple("CacheConfig", ["type", "options"])


@contextlib.contextmanager
def _locked(cache_dir):
    """An exclusive lock on cache_dir/cache.lock (processes sharing the cache file)."""
    import fcntl

    with open(os.path.join(cache_dir, "cache.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class _FileStore:
    def __init__(self, cache_dir):
        self.cache_dir = cache_dir
        self.path = path = os.path.join(cache_dir, "cache.bin")
        with _locked(cache_dir):
            with open(path, "ab"):
                pass
            with open(path, "rb") as f:
                data = f.read()
        self.data = pickle.loads(data) if data else {}
        self.dirty = False

    def get(self, key):
        return self.data.get(key)

    def put(self, key, value):
        self.data[key] = value
        self.dirty = True

    def flush(self):
        if self.dirty:
            with _locked(self.cache_dir):
                with open(self.path, "wb") as f:
                    pickle.dump(self.data, f)
            self.dirty = False


class _MemoryStore:
    def __init__(self):
        self.data = {}

    def get(self, key):
        return self.data.get(key)

    def put(self, key, value):
        self.data[key] = value

    def flush(self):
        pass


class _RedisStore:
    def __init__(self, options):
        import redis  # optional dependency: without it this backend is skipped

        kw = {k: options[k] for k in ("password",) if k in options}
        if "unixsocket" in options:
            self.conn = redis.Redis(unix_socket_path=options["unixsocket"], **kw)
        else:
            self.conn = redis.Redis(host=options["hostname"], port=int(options["port"]), **kw)
        if not self.conn.get("mgb-cache-flag"):
            raise RuntimeError("the redis server has no mgb-cache-flag key")
        self.prefix = options.get("prefix", "")

    def get(self, key):
        return self.conn.get(self.prefix + repr(key))

    def put(self, key, value):
        self.conn.set(self.prefix + repr(key), value)

    def flush(self):
        pass


def _bytes(v):
    return v if isinstance(v, bytes) else str(v).encode()


class PersistentCacheOnServer:
    """A persistent byte cache: ``put(category, key, value)``, ``get(category, key)`` -> bytes
    or None; ``config`` (None until first use) says which backend is in use.

    Examples:
        >>> import os
        >>> os.environ["MGE_FASTRUN_CACHE_TYPE"] = "MEMORY"
        >>> from engine.utils.persistent_cache import PersistentCacheOnServer
        >>> pc = PersistentCacheOnServer()
        >>> pc.put("algo", "conv", "winograd"); pc.get("algo", "conv")
        b'winograd'
        >>> del os.environ["MGE_FASTRUN_CACHE_TYPE"]
    """

    def __init__(self):
        self.config = None
        self._store = None
        self._candidates = []
        cache_type = os.getenv("MGE_FASTRUN_CACHE_TYPE")
        if cache_type not in ("FILE", "MEMORY"):
            redis_config = self.get_redis_config()
            if redis_config is not None:
                self._candidates.append(CacheConfig("redis", redis_config))
        if cache_type != "MEMORY":
            self._candidates.append(CacheConfig("in-file", {"path": None}))
        self._candidates.append(CacheConfig("in-memory", {}))

    def get_cache_dir(self):
        cache_dir = os.getenv("MGE_FASTRUN_CACHE_DIR")
        if not cache_dir:
            cache_dir = os.path.join(os.path.expanduser("~"), ".cache", "megengine",
                                     "persistent_cache")
        cache_dir = os.fspath(cache_dir)
        os.makedirs(cache_dir, exist_ok=True)
        return cache_dir

    def lock_cache_file(self, cache_dir):
        """A context manager holding the lock of the cache file in `cache_dir`."""
        return _locked(cache_dir)

    def get_redis_config(self):
        url = os.getenv("MGE_FASTRUN_CACHE_URL")
        if url is None:
            return None
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme == "redis":
            config = {"hostname": parsed.hostname, "port": str(parsed.port)}
        elif parsed.scheme == "redis+socket":
            config = {"unixsocket": parsed.path}
        else:
            raise ValueError(f"PersistentCacheOnServer: unsupported cache URL scheme in {url!r}")
        if parsed.password is not None:
            config["password"] = parsed.password
        config["prefix"] = f"mgbcache:{os.getenv('USER', '')}:engine::"
        return config

    def _open(self):
        if self._store is not None:
            return self._store
        for cand in self._candidates:
            try:
                if cand.type == "redis":
                    store = _RedisStore(cand.options)
                elif cand.type == "in-file":
                    store = _FileStore(self.get_cache_dir())
                    cand = CacheConfig("in-file", {"path": store.path})
                else:
                    store = _MemoryStore()
            except Exception as exc:  # the next backend, as MegEngine falls back
                get_logger().warning(f"persistent cache: {cand.type} unavailable ({exc!r})")
                continue
            self._store, self.config = store, cand
            return store
        raise RuntimeError("PersistentCacheOnServer: no cache backend could be opened")

    def put(self, category, key, value):
        """Stores `value` (bytes, or str encoded as UTF-8) under (category, key)."""
        self._open().put((str(category), _bytes(key)), _bytes(value))

    def get(self, category, key):
        """The bytes stored under (category, key), or None."""
        return self._open().get((str(category), _bytes(key)))

    def flush(self):
        """Writes a changed file cache back to its file."""
        if self._store is not None:
            self._store.flush()

    def __del__(self):
        try:
            self.flush()
        except Exception:  # interpreter shutdown: nothing left to write with
            pass
