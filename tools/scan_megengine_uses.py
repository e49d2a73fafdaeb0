"""Which MegEngine names that real code uses does engine lack? (A porting check, not a test.)

Walks the .py files under the given folders, follows `import megengine ...` / `from megengine...
import ...` aliases, collects every dotted MegEngine name the code reaches (mge.x, F.nn.y,
M.Conv2d, from megengine.hub import z), and resolves each in engine the way a user reaches it.

    python tools/scan_megengine_uses.py REPO_DIR... [--show N]
"""
import argparse
import ast
import collections
import importlib
import inspect
from pathlib import Path


def uses_in(source):
    """Dotted megengine.* names used in one file."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    alias = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "megengine":
                    if a.asname:
                        alias[a.asname] = a.name
                    else:
                        alias["megengine"] = "megengine"
                    found.append(a.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and \
                node.module.split(".")[0] == "megengine":
            for a in node.names:
                if a.name == "*":
                    continue
                full = f"{node.module}.{a.name}"
                alias[a.asname or a.name] = full
                found.append(full)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain = []
            cur = node
            while isinstance(cur, ast.Attribute):
                chain.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name) and cur.id in alias:
                # only the outermost attribute chain counts (a.b.c, not also a.b)
                found.append(".".join([alias[cur.id]] + chain[::-1]))
    return found


_MISSING = object()


def reach(dotted):
    """The engine object a user reaches by the megengine name `dotted` (attributes first, a
    submodule import where no attribute has the name), or _MISSING."""
    parts = ["engine"] + dotted.split(".")[1:]
    try:
        obj = importlib.import_module("engine")
        for i, attr in enumerate(parts[1:], start=1):
            if hasattr(obj, attr):
                obj = getattr(obj, attr)
                continue
            if not inspect.ismodule(obj):
                return _MISSING
            obj = importlib.import_module(".".join(parts[: i + 1]))
        return obj
    except Exception:
        return _MISSING


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--show", type=int, default=60)
    args = ap.parse_args()
    counts = collections.Counter()
    for folder in args.folders:
        for f in Path(folder).rglob("*.py"):
            counts.update(uses_in(f.read_text(encoding="utf-8", errors="replace")))
    # a chain that continues past an object (x.shape.numel) is judged at its longest prefix
    # that engine resolves or that is a MegEngine name the code really reaches
    missing = collections.Counter()
    cache = {}
    for name, n in counts.items():
        ok = cache.setdefault(name, reach(name)) is not _MISSING
        if not ok:
            # method calls on resolved objects (mge.tensor(x).numpy) are not the API surface
            prefix = name.rsplit(".", 1)[0]
            parent = cache.setdefault(prefix, reach(prefix))
            if prefix != "megengine" and parent is not _MISSING and not inspect.ismodule(parent):
                continue
            missing[name] += n
    total = sum(counts.values())
    print(f"{sum(missing.values())} of {total} uses ({len(missing)} of {len(counts)} names) "
          "do not resolve in engine")
    for name, n in missing.most_common(args.show):
        print(f"{n:6d}  {name}")


if __name__ == "__main__":
    main()
