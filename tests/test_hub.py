"""engine.hub: hubconf folders offline (source="local"), the git fetchers against a local git
repository (file:// host, no network), the weights cache and @pretrained."""
import os
import shutil
import subprocess

import numpy as np
import pytest

import engine as mge
import engine.module as M
from engine import hub
from engine.hub import exceptions, fetcher, tools

HUBCONF = '''
import engine.module as M
from engine import hub
from helper import width  # a sibling module: the repo folder is on sys.path while loading

dependencies = ["numpy"]
WEIGHTS = {weights!r}


@hub.pretrained(WEIGHTS)
def tiny(n_out=2):
    """A tiny linear model."""
    return M.Linear(width(), n_out)


def _private():
    pass
'''


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MGE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def make_repo(folder, weights):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hubconf.py").write_text(HUBCONF.format(weights=str(weights)))
    (folder / "helper.py").write_text("def width():\n    return 3\n")
    return folder


def saved_linear(path):
    model = M.Linear(3, 2)
    model.weight._storage.array[...] = np.arange(6, dtype="float32").reshape(2, 3)
    mge.save(model.state_dict(), str(path))
    return model


def test_local_hubconf_list_help_load_and_pretrained(tmp_path, home):
    weights = tmp_path / "tiny.pkl"
    ref = saved_linear(weights)
    repo = make_repo(tmp_path / "repo", weights)
    assert hub.list(str(repo), source="local") == ["_private", "tiny", "width"]
    assert hub.help(str(repo), "tiny", source="local") == "A tiny linear model."
    fresh = hub.load(str(repo), "tiny", source="local")
    assert fresh.in_features == 3 and fresh.out_features == 2
    loaded = hub.load(str(repo), "tiny", pretrained=True, source="local")
    np.testing.assert_array_equal(loaded.weight.numpy(), ref.weight.numpy())
    mod = hub.import_module(str(repo), source="local")
    assert mod.dependencies == ["numpy"]


def test_local_errors_name_what_is_missing(tmp_path, home):
    with pytest.raises(FileNotFoundError, match="hubconf.py does not exist"):
        hub.list(str(tmp_path), source="local")
    repo = make_repo(tmp_path / "repo", tmp_path / "w.pkl")
    with pytest.raises(RuntimeError, match="Cannot find callable nope in hubconf.py"):
        hub.load(str(repo), "nope", source="local")
    with pytest.raises(ValueError, match="source must be one of"):
        hub.list(str(repo), source="web")
    (repo / "hubconf.py").write_text("dependencies = ['no_such_pkg_xyz']\ndef f():\n    pass\n")
    with pytest.raises(RuntimeError, match="Missing dependencies: no_such_pkg_xyz"):
        hub.load(str(repo), "f", source="local")


def test_pretrained_adds_the_keyword_and_loads_a_file_url(tmp_path):
    path = tmp_path / "w.pkl"
    ref = saved_linear(path)

    @hub.pretrained("file://" + str(path))
    def net(**kwargs):
        """doc kept"""
        return M.Linear(3, 2, **kwargs)

    assert net.__doc__ == "doc kept"
    assert not np.array_equal(net().weight.numpy(), ref.weight.numpy())
    np.testing.assert_array_equal(net(pretrained=True).weight.numpy(), ref.weight.numpy())


def test_url_weights_come_from_the_cache_offline_and_a_miss_names_the_file(tmp_path, home):
    url = "http://127.0.0.1:9/models/tiny.pkl"  # port 9 (discard): nothing answers
    with pytest.raises(RuntimeError) as err:
        hub.load_serialized_obj_from_url(url)
    msg = str(err.value)
    cache = home / "serialized"
    assert str(cache) in msg and "_tiny.pkl" in msg and url in msg
    cached = [p for p in msg.split() if p.startswith(str(cache))][0]
    assert os.path.dirname(cached) == str(cache)
    saved_linear(cached)  # put the file where the message said: now it loads, offline
    state = hub.load_serialized_obj_from_url(url)
    assert set(state) == {"weight", "bias"}
    assert not [n for n in os.listdir(cache) if n.endswith(".part")]


def test_pretrained_with_a_url_loads_the_cached_weights(tmp_path, home):
    url = "https://example.invalid/tiny.pkl"
    import hashlib

    name = hashlib.sha256(url.encode()).hexdigest()[:6] + "_tiny.pkl"
    (home / "serialized").mkdir(parents=True)
    ref = saved_linear(home / "serialized" / name)
    model = hub.pretrained(url)(lambda **kw: M.Linear(3, 2))(pretrained=True)
    np.testing.assert_array_equal(model.weight.numpy(), ref.weight.numpy())


def git(*args, cwd):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


@pytest.fixture
def mirror(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    weights = tmp_path / "tiny.pkl"
    saved_linear(weights)
    repo = make_repo(tmp_path / "mirror" / "owner" / "models", weights)
    git("init", "-q", "-b", "master", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    first = git("rev-parse", "HEAD", cwd=repo)
    (repo / "helper.py").write_text("def width():\n    return 5\n")
    git("commit", "-qam", "v2", cwd=repo)
    git("checkout", "-qb", "dev", cwd=repo)
    (repo / "helper.py").write_text("def width():\n    return 7\n")
    git("commit", "-qam", "dev", cwd=repo)
    git("checkout", "-q", "master", cwd=repo)
    return "file://" + str(tmp_path / "mirror"), first


@pytest.mark.parametrize("protocol", ["HTTPS", "SSH"])
def test_git_fetch_branch_commit_and_cache(mirror, home, protocol):
    host, first = mirror
    kw = dict(git_host=host, protocol=protocol)
    assert hub.load("owner/models", "tiny", **kw).in_features == 5            # master head
    assert hub.load("owner/models:dev", "tiny", **kw).in_features == 7        # a branch
    assert hub.load("owner/models", "tiny", commit=first, **kw).in_features == 3  # a commit
    prefix = "_".join(mge.__version__.split(".")) + "_"
    cached = os.listdir(home / "hub")
    assert len(cached) == 3 and all(n.startswith(prefix) for n in cached)
    assert not any(os.path.exists(home / "hub" / n / ".git") for n in cached)
    # use_cache=True serves the fetched copy even when the remote moved on; False re-fetches
    remote = host[len("file://"):] + "/owner/models"
    with open(remote + "/helper.py", "w") as f:
        f.write("def width():\n    return 9\n")
    git("commit", "-qam", "v3", cwd=remote)
    assert hub.load("owner/models", "tiny", **kw).in_features == 5
    assert hub.load("owner/models", "tiny", use_cache=False, **kw).in_features == 9
    assert hub.list("owner/models", **kw) == ["_private", "tiny", "width"]


def test_git_errors(mirror, home):
    host, _ = mirror
    with pytest.raises(exceptions.GitPullError, match="Repo pull error"):
        hub.list("owner/missing", git_host=host)
    with pytest.raises(exceptions.GitCheckoutError, match="commit id"):
        hub.list("owner/models", git_host=host, commit="deadbeef")
    with pytest.raises(exceptions.InvalidRepo, match="is invalid"):
        hub.list("no_slash", git_host=host)
    with pytest.raises(exceptions.InvalidGitHost, match="malformed"):
        hub.list("owner/models", git_host="bad host!")
    with pytest.raises(exceptions.InvalidProtocol, match="HTTPS, SSH"):
        hub.list("owner/models", git_host=host, protocol="FTP")
    assert issubclass(exceptions.GitPullError, exceptions.FetcherError)


def test_fetcher_urls_and_tools(tmp_path):
    assert fetcher.GitHTTPSFetcher._url("github.com", "a", "b") == "https://github.com/a/b.git"
    assert fetcher.GitSSHFetcher._url("gitlab.com", "a", "b") == "git@gitlab.com:a/b.git"
    assert fetcher.RepoFetcherBase._check_git_host("10.0.0.1")
    assert not fetcher.RepoFetcherBase._check_git_host("300.0.0.1")
    assert fetcher.synchronized(lambda: 5)() == 5
    assert tools.check_module_exists("numpy") and not tools.check_module_exists("nope_xyz.a")
    (tmp_path / "m.py").write_text("VALUE = 11\n")
    assert tools.load_module("m", str(tmp_path / "m.py")).VALUE == 11
    cwd = os.getcwd()
    with tools.cd(str(tmp_path)):
        assert os.path.realpath(os.getcwd()) == os.path.realpath(tmp_path)
    assert os.getcwd() == cwd
