"""hub.load / list / help / import_module, weights from URLs, and the @pretrained decorator.

The cache lives in $MGE_HOME, else $XDG_CACHE_HOME/megengine, else ~/.cache/megengine (as in
MegEngine): repositories under hub/, weights under serialized/ as "<sha256(url)[:6]>_<file>".
A weights file already in the cache is used without a network; one that is missing is
downloaded, and without a network the error names the file that was looked for.
"""
import functools
import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from urllib.parse import urlparse

from ..logger import get_logger
from ..serialization import load as _load_serialized
from .const import (
    DEFAULT_CACHE_DIR,
    DEFAULT_GIT_HOST,
    DEFAULT_PROTOCOL,
    ENV_MGE_HOME,
    ENV_XDG_CACHE_HOME,
    HTTP_READ_TIMEOUT,
    HUBCONF,
    HUBDEPENDENCY,
)
from .exceptions import InvalidProtocol
from .fetcher import GitHTTPSFetcher, GitSSHFetcher
from .tools import cd, check_module_exists, load_module

__all__ = ["list", "load", "help", "load_serialized_obj_from_url", "pretrained", "import_module"]

logger = get_logger(__name__)

PROTOCOLS = {"HTTPS": GitHTTPSFetcher, "SSH": GitSSHFetcher}
SOURCES = ("remote", "local")


def _get_megengine_home():
    """The cache root: MGE_HOME, else XDG_CACHE_HOME/megengine, else ~/.cache/megengine."""
    default = os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "megengine")
    return os.path.expanduser(os.getenv(ENV_MGE_HOME, default))


def _get_repo(git_host, repo_info, use_cache=False, commit=None, protocol=DEFAULT_PROTOCOL):
    if protocol not in PROTOCOLS:
        raise InvalidProtocol("Invalid protocol, the value should be one of {}.".format(
            ", ".join(PROTOCOLS.keys())))
    cache_dir = os.path.join(_get_megengine_home(), "hub")
    os.makedirs(cache_dir, exist_ok=True)
    with cd(cache_dir):
        repo_dir = PROTOCOLS[protocol].fetch(git_host, repo_info, use_cache, commit)
    return os.path.join(cache_dir, repo_dir)


def _check_dependencies(module):
    deps = getattr(module, HUBDEPENDENCY, None)
    if not deps:
        return
    missing = [m for m in deps if not check_module_exists(m)]
    if missing:
        raise RuntimeError("Missing dependencies: {}".format(", ".join(missing)))


def _init_hub(repo_info, git_host=DEFAULT_GIT_HOST, use_cache=True, commit=None,
              protocol=DEFAULT_PROTOCOL, source="remote"):
    r"""Imports hubmodule like python import.

    Args:
        repo_info: a string with format ``"repo_owner/repo_name[:tag_name/:branch_name]"`` with
            an optional tag/branch (default: the repository's default branch, ``master`` in
            MegEngine's time). Eg: ``"brain_sdk/MegBrain[:hub]"``. With ``source="local"``: a
            folder that holds a hubconf.py.
        git_host: host address of git repo. Eg: github.com
        use_cache: whether to use locally cached code or completely re-fetch.
        commit: commit id on github or gitlab.
        protocol: which protocol to use to get the repo: HTTPS or SSH.
        source: "remote" (fetch with git, MegEngine's behaviour) or "local" (no fetch).

    Returns:
        a python module.

    Examples:
        >>> import os, tempfile
        >>> from engine import hub
        >>> d = tempfile.mkdtemp()
        >>> with open(os.path.join(d, "hubconf.py"), "w") as f:
        ...     _ = f.write("def answer():\n    return 42\n")
        >>> hub.import_module(d, source="local").answer()
        42
    """
    if source not in SOURCES:
        raise ValueError(f"hub: source must be one of {SOURCES}, got {source!r}")
    if source == "local":
        repo_dir = os.path.abspath(os.path.expanduser(repo_info))
        if not os.path.isfile(os.path.join(repo_dir, HUBCONF)):
            raise FileNotFoundError(f"hub: source='local' needs a folder with a {HUBCONF}; "
                                    f"{os.path.join(repo_dir, HUBCONF)} does not exist")
    else:
        repo_dir = _get_repo(git_host, repo_info, use_cache=use_cache, commit=commit,
                             protocol=protocol)
    # hubconf.py imports its sibling modules by their plain names; they leave sys.modules
    # afterwards, so that another repository (or revision) with a module of the same name
    # gets its own (the loaded hubconf keeps references to what it imported)
    before = set(sys.modules)
    sys.path.insert(0, repo_dir)
    try:
        return load_module(HUBCONF[:-3], os.path.join(repo_dir, HUBCONF))
    finally:
        sys.path.remove(repo_dir)
        for name in set(sys.modules) - before:
            path = getattr(sys.modules[name], "__file__", None) or ""
            if os.path.abspath(path).startswith(repo_dir + os.sep):
                del sys.modules[name]


@functools.wraps(_init_hub)
def import_module(*args, **kwargs):
    return _init_hub(*args, **kwargs)


def _entry(hubmodule, entry):
    fn = getattr(hubmodule, entry, None)
    if fn is None or not callable(fn):
        raise RuntimeError("Cannot find callable {} in hubconf.py".format(entry))
    return fn


def list(repo_info, git_host=DEFAULT_GIT_HOST, use_cache=True, commit=None,
         protocol=DEFAULT_PROTOCOL, source="remote"):
    r"""Lists all entrypoints available in repo hubconf.

    Args:
        repo_info: a string with format ``"repo_owner/repo_name[:tag_name/:branch_name]"`` with
            an optional tag/branch; with ``source="local"`` a folder holding a hubconf.py.
        git_host: host address of git repo. Eg: github.com
        use_cache: whether to use locally cached code or completely re-fetch.
        commit: commit id on github or gitlab.
        protocol: which protocol to use to get the repo: HTTPS or SSH.
        source: "remote" (fetch with git) or "local" (a folder, offline).

    Returns:
        all entrypoint names of the model.

    Examples:
        >>> import os, tempfile
        >>> from engine import hub
        >>> d = tempfile.mkdtemp()
        >>> with open(os.path.join(d, "hubconf.py"), "w") as f:
        ...     _ = f.write("def net_a():\n    pass\ndef net_b():\n    pass\n")
        >>> hub.list(d, source="local")
        ['net_a', 'net_b']
    """
    hubmodule = _init_hub(repo_info, git_host, use_cache, commit, protocol, source)
    return [n for n in dir(hubmodule)
            if not n.startswith("__") and callable(getattr(hubmodule, n))]


def load(repo_info, entry, *args, git_host=DEFAULT_GIT_HOST, use_cache=True, commit=None,
         protocol=DEFAULT_PROTOCOL, source="remote", **kwargs):
    r"""Loads model from github or gitlab repo, with pretrained weights.

    Args:
        repo_info: a string with format ``"repo_owner/repo_name[:tag_name/:branch_name]"`` with
            an optional tag/branch; with ``source="local"`` a folder holding a hubconf.py.
        entry: an entrypoint defined in hubconf.
        args: positional arguments of the entrypoint.
        git_host: host address of git repo. Eg: github.com
        use_cache: whether to use locally cached code or completely re-fetch.
        commit: commit id on github or gitlab.
        protocol: which protocol to use to get the repo: HTTPS or SSH.
        source: "remote" (fetch with git) or "local" (a folder, offline).
        kwargs: keyword arguments of the entrypoint (e.g. ``pretrained=True``).

    Returns:
        a single model with corresponding pretrained weights.

    Examples:
        >>> import os, tempfile
        >>> from engine import hub
        >>> d = tempfile.mkdtemp()
        >>> with open(os.path.join(d, "hubconf.py"), "w") as f:
        ...     _ = f.write("import engine.module as M\ndef net(n=2):\n    return M.Linear(n, 1)\n")
        >>> hub.load(d, "net", 3, source="local").in_features
        3
    """
    hubmodule = _init_hub(repo_info, git_host, use_cache, commit, protocol, source)
    fn = _entry(hubmodule, entry)
    _check_dependencies(hubmodule)
    return fn(*args, **kwargs)


def help(repo_info, entry, git_host=DEFAULT_GIT_HOST, use_cache=True, commit=None,
         protocol=DEFAULT_PROTOCOL, source="remote"):
    r"""This function returns docstring of entrypoint ``entry`` by following steps:

    1. Pull the repo code specified by git and repo_info (or use the local folder).
    2. Load the entry defined in repo's hubconf.py
    3. Return docstring of function entry.

    Args:
        repo_info: a string with format ``"repo_owner/repo_name[:tag_name/:branch_name]"`` with
            an optional tag/branch; with ``source="local"`` a folder holding a hubconf.py.
        entry: an entrypoint defined in hubconf.py
        git_host: host address of git repo. Eg: github.com
        use_cache: whether to use locally cached code or completely re-fetch.
        commit: commit id on github or gitlab.
        protocol: which protocol to use to get the repo: HTTPS or SSH.
        source: "remote" (fetch with git) or "local" (a folder, offline).

    Returns:
        docstring of entrypoint ``entry``.

    Examples:
        >>> import os, tempfile
        >>> from engine import hub
        >>> d = tempfile.mkdtemp()
        >>> with open(os.path.join(d, "hubconf.py"), "w") as f:
        ...     _ = f.write('def net():\n    "A tiny net."\n')
        >>> hub.help(d, "net", source="local")
        'A tiny net.'
    """
    hubmodule = _init_hub(repo_info, git_host, use_cache, commit, protocol, source)
    return _entry(hubmodule, entry).__doc__


def _local_path(url):
    """The file a URL names when it is a local path or file:// URL, else None."""
    parts = urlparse(url)
    if parts.scheme == "file":
        return urllib.request.url2pathname(parts.path)
    if parts.scheme == "":
        return os.path.expanduser(url)
    return None


def _download(url, dst):
    """Download url to dst through a temporary file (an interrupted download leaves no dst)."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dst), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url,
                                                              timeout=HTTP_READ_TIMEOUT) as r:
            shutil.copyfileobj(r, f)
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_serialized_obj_from_url(url, model_dir=None):
    """Loads MegEngine serialized object from the given URL.

    If the object is already present in ``model_dir``, it's deserialized and returned (no
    network needed). If no ``model_dir`` is specified, it will be ``MGE_HOME/serialized``. A
    local path or ``file://`` URL is loaded in place.

    Args:
        url: url to serialized object.
        model_dir: dir to cache target serialized file.

    Returns:
        loaded object.

    Examples:
        >>> import os, tempfile
        >>> import engine as mge
        >>> from engine import hub
        >>> path = os.path.join(tempfile.mkdtemp(), "w.pkl")
        >>> mge.save({"a": 1}, path)
        >>> hub.load_serialized_obj_from_url("file://" + path)
        {'a': 1}
    """
    local = _local_path(url)
    if local is not None:
        if not os.path.isfile(local):
            raise FileNotFoundError(f"load_serialized_obj_from_url: no file {local}")
        return _load_serialized(local)
    if model_dir is None:
        model_dir = os.path.join(_get_megengine_home(), "serialized")
    os.makedirs(model_dir, exist_ok=True)
    # a hash of the url as prefix: equal file names from different urls do not collide
    digest = hashlib.sha256(url.encode()).hexdigest()[:6]
    cached_file = os.path.join(model_dir, digest + "_" + os.path.basename(urlparse(url).path))
    logger.info("load_serialized_obj_from_url: download to or using cached %s", cached_file)
    if not os.path.exists(cached_file):
        try:
            _download(url, cached_file)
        except (urllib.error.URLError, OSError) as e:
            raise RuntimeError(
                f"load_serialized_obj_from_url: {cached_file} is not in the cache and "
                f"downloading {url} failed ({e}); put the file there to use it offline"
            ) from e
    return _load_serialized(cached_file)


class pretrained:
    r"""Decorator which helps to download pretrained weights from the given url.

    For example, we can decorate a resnet18 function as follows

    .. code-block::

        @hub.pretrained("https://url/to/pretrained_resnet18.pkl")
        def resnet18(**kwargs):

    Args:
        url: where the weights are: an http(s) URL (cached, see
            :func:`load_serialized_obj_from_url`), a ``file://`` URL or a local path.

    Returns:
        When decorated function is called with ``pretrained=True``, engine will load (and
        download when missing from the cache) the weights and fill the returned model with them.

    Examples:
        >>> import os, tempfile
        >>> import engine as mge
        >>> import engine.module as M
        >>> from engine import hub
        >>> path = os.path.join(tempfile.mkdtemp(), "lin.pkl")
        >>> mge.save(M.Linear(2, 1).state_dict(), path)
        >>> @hub.pretrained(path)
        ... def linear(**kwargs):
        ...     return M.Linear(2, 1, **kwargs)
        >>> model = linear(pretrained=True)
    """

    def __init__(self, url):
        self.url = url

    def __call__(self, func):
        @functools.wraps(func)
        def pretrained_model_func(pretrained=False, **kwargs):
            model = func(**kwargs)
            if pretrained:
                model.load_state_dict(load_serialized_obj_from_url(self.url))
            return model

        return pretrained_model_func
