"""Fetch a hub repository into the hub cache with the `git` command line.

Both fetchers clone "owner/name[:branch]" from `git_host` (the HTTPS one over https://, the SSH
one as git@host:), check out `commit` when given, and drop the .git folder: what stays is the
code at that revision, in a cache folder named after the engine version and a hash of
(owner, name, branch, commit). A `git_host` of the form "file:///some/dir" names a local mirror
holding owner/name repositories, which works without a network.
"""
import functools
import hashlib
import os
import re
import shutil
import subprocess
import threading

from ..logger import get_logger
from ..version import __version__
from .const import DEFAULT_BRANCH_NAME
from .exceptions import GitCheckoutError, GitPullError, InvalidGitHost, InvalidRepo
from .tools import cd

__all__ = ["GitHTTPSFetcher", "GitSSHFetcher", "synchronized"]

logger = get_logger(__name__)

_domain = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-_]{0,61}[a-z0-9])?\.)+[a-z0-9][a-z0-9-_]{0,61}[a-z]$")
_lock = threading.RLock()


def synchronized(func):
    r"""Decorator: one fetch at a time. MegEngine also orders the processes of a distributed
    group here (rank 0 fetches first); engine has no distributed group yet, so this serialises
    the threads of one process.

    Args:
        func: the function to wrap.

    Returns:
        the wrapped function.

    Examples:
        >>> from engine.hub.fetcher import synchronized
        >>> synchronized(lambda x: x + 1)(1)
        2
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _lock:
            return func(*args, **kwargs)

    return wrapper


class RepoFetcherBase:
    """What both fetchers share: parsing repo_info, checking the host, the cache folder name,
    and the git clone itself. Subclasses give the clone URL."""

    @classmethod
    def _url(cls, git_host, owner, name):
        raise NotImplementedError

    @classmethod
    @synchronized
    def fetch(cls, git_host, repo_info, use_cache=False, commit=None, silent=True):
        """Fetches git repo into the current directory (the hub cache).

        Args:
            git_host: host address of git repo. Eg: github.com (or "file:///dir", a local
                mirror of owner/name repositories)
            repo_info: a string with format ``"repo_owner/repo_name[:tag_name/:branch_name]"``
                with an optional tag/branch; without one the repository's default branch.
            use_cache: whether to use locally fetched code or completely re-fetch.
            commit: commit id on github or gitlab.
            silent: whether to capture git's output instead of showing it.

        Returns:
            directory where the repo code is stored (relative to the current directory).
        """
        if not cls._check_git_host(git_host):
            raise InvalidGitHost("git_host: '{}' is malformed.".format(git_host))
        owner, name, branch = cls._parse_repo_info(repo_info)
        branch_name = branch or DEFAULT_BRANCH_NAME
        raw = "{}_{}_{}".format(owner, name, branch_name.replace("/", "_")) + (
            "_{}".format(commit) if commit else "")
        repo_dir = "_".join(__version__.split(".")) + "_" + cls._gen_repo_dir(raw)
        if use_cache and os.path.exists(repo_dir):
            logger.debug("Cache Found in %s", repo_dir)
            return repo_dir
        shutil.rmtree(repo_dir, ignore_errors=True)
        url = cls._url(git_host, owner, name)
        logger.debug("git clone %s (branch %s) to %s", url, branch_name, repo_dir)
        out = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE} if silent else {}
        if commit is None:
            cmd = ["git", "clone", "--depth=1"] + (["-b", branch] if branch else []) + [url,
                                                                                   repo_dir]
            cls._run(cmd, GitPullError, "Repo pull error, please check repo info.", out)
        else:
            cmd = ["git", "clone"] + (["-b", branch] if branch else []) + [url, repo_dir]
            cls._run(cmd, GitPullError, "Repo pull error, please check repo info.", out)
            with cd(repo_dir):
                try:
                    cls._run(["git", "checkout", commit], GitCheckoutError,
                             "Git checkout error, please check the commit id.", out)
                except GitCheckoutError:
                    os.chdir("..")
                    shutil.rmtree(repo_dir, ignore_errors=True)
                    raise
        shutil.rmtree(os.path.join(repo_dir, ".git"), ignore_errors=True)
        return repo_dir

    @staticmethod
    def _run(cmd, error, message, out):
        try:
            p = subprocess.run(cmd, **out)
        except FileNotFoundError:
            raise error(message + "\nthe `git` command is not installed") from None
        if p.returncode:
            err = p.stderr.decode(errors="replace") if p.stderr else ""
            raise error("{}\n{} exited with {}\n{}".format(message, " ".join(cmd),
                                                          p.returncode, err))

    @classmethod
    def _parse_repo_info(cls, repo_info):
        """(owner, name, branch or None) of "owner/name[:branch]"."""
        try:
            prefix, branch = repo_info.split(":") if ":" in repo_info else (repo_info, None)
            owner, name = prefix.split("/")
        except (ValueError, AttributeError):
            raise InvalidRepo("repo_info: '{}' is invalid.".format(repo_info)) from None
        if not owner or not name or branch == "":
            raise InvalidRepo("repo_info: '{}' is invalid.".format(repo_info))
        return owner, name, branch

    @classmethod
    def _check_git_host(cls, git_host):
        if not isinstance(git_host, str):
            return False
        if git_host.startswith("file://"):
            return os.path.isdir(git_host[len("file://"):])
        return cls._is_valid_domain(git_host) or cls._is_valid_host(git_host)

    @classmethod
    def _is_valid_domain(cls, s):
        try:
            return _domain.match(s.encode("idna").decode("ascii")) is not None
        except UnicodeError:
            return False

    @classmethod
    def _is_valid_host(cls, s):
        nums = s.split(".")
        if len(nums) != 4 or any(not n.isdigit() for n in nums):
            return False
        return all(0 <= int(n) < 256 for n in nums)

    @classmethod
    def _gen_repo_dir(cls, repo_dir):
        return hashlib.sha1(repo_dir.encode()).hexdigest()[:16]


def _local_url(git_host, owner, name):
    return "{}/{}/{}".format(git_host.rstrip("/"), owner, name)


class GitSSHFetcher(RepoFetcherBase):
    """Fetches a repository by SSH (``git clone git@host:owner/name.git``).

    Examples:
        >>> from engine.hub.fetcher import GitSSHFetcher
        >>> GitSSHFetcher._url("github.com", "MegEngine", "Models")
        'git@github.com:MegEngine/Models.git'
    """

    @classmethod
    def _url(cls, git_host, owner, name):
        if git_host.startswith("file://"):
            return _local_url(git_host, owner, name)
        return "git@{}:{}/{}.git".format(git_host, owner, name)


class GitHTTPSFetcher(RepoFetcherBase):
    """Fetches a public repository by HTTPS (``git clone https://host/owner/name.git``).

    Examples:
        >>> from engine.hub.fetcher import GitHTTPSFetcher
        >>> GitHTTPSFetcher._url("github.com", "MegEngine", "Models")
        'https://github.com/MegEngine/Models.git'
    """

    @classmethod
    def _url(cls, git_host, owner, name):
        if git_host.startswith("file://"):
            return _local_url(git_host, owner, name)
        return "https://{}/{}/{}.git".format(git_host, owner, name)
