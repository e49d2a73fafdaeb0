"""MegEngine's AutoNaming: the names a dumped graph gives to values the user did not name.

engine's dump names an unnamed output after the op that makes it (MegEngine's style: an
elementwise op's mode in capitals, "ADD"; other ops their type, "Conv2d"), prefixed by the
scopes pushed with push_scope / pop_scope (MegEngine's Module calls push their names; engine's
do not, so only scopes a user pushes appear) and made unique with "[k]" suffixes, as
MegEngine's remove_duplicate_names does. A Tensor's own
non-empty `name` wins over all of this.
"""


class AutoNaming:
    """Scopes and user-given names (class-level state, as MegEngine's)."""

    scopes = []
    handle2names = {}
    __cls_attributes__ = {"scopes", "handle2names"}

    @classmethod
    def clear(cls):
        for attr in cls.__cls_attributes__:
            getattr(cls, attr).clear()

    @classmethod
    def push_scope(cls, scope):
        cls.scopes.append(scope)

    @classmethod
    def pop_scope(cls):
        return cls.scopes.pop()

    @classmethod
    def get_scope(cls):
        return ".".join(s for s in cls.scopes if s is not None)

    @classmethod
    def gen_name(cls, name):
        scope = cls.get_scope()
        return f"{scope}.{name}" if scope else name

    @classmethod
    def record_var_name(cls, handle, name):
        cls.handle2names[handle] = name

    @classmethod
    def get_var_name(cls, handle):
        return cls.handle2names.pop(handle, None)


def op_display_name(op):
    """MegEngine's name for the values an op makes: elementwise ops by their mode in capitals
    (engine.ops.elemwise's classes: Add -> "ADD"), the others by their type."""
    if op.__module__.endswith(".elemwise"):
        return op.__name__.upper()
    return op.__name__


def unique_names(names):
    """names with each repeated one numbered name[0], name[1], ... (MegEngine's rule)."""
    counts = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    seen = {}
    out = []
    for n in names:
        if counts[n] == 1:
            out.append(n)
        else:
            out.append(f"{n}[{seen.get(n, 0)}]")
            seen[n] = seen.get(n, 0) + 1
    return out
