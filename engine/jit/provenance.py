"""Where each value an op reads comes from, so that a traced call is checked as a dataflow
graph and not only as a list of ops (MegEngine's checks and their messages):

    ("i", k)        the call's k-th Tensor argument
    ("o", e, j)     output j of the call's e-th event (an op or a random draw)
    ("c", value)    a constant: a Python number in an expression (x + 1), a constant fill
                    (F.full / zeros / ones and their _like forms); compared by value
    ("h",)          a Tensor built from host data in the call (mge.tensor(numpy or a Python
                    number)): data, as a parameter is; not compared
    ("x",)          anything from outside the call (a parameter, a buffer, a closure's Tensor)
    ("e",)          made inside an exclude_from_trace() block: it may differ from call to call,
                    so it agrees with anything

Values are known by their Storage, held weakly: a value that dies frees its entry's meaning
(a new Storage at the same address is not mistaken for it).
"""
import weakref

EXTERNAL = ("x",)


class Provenance:
    def __init__(self, inputs):
        self._where = {}
        for k, t in enumerate(inputs):
            self._put(t._storage, ("i", k))

    def _put(self, storage, token):
        self._where[id(storage)] = (token, weakref.ref(storage))

    def token(self, t):
        s = t._storage
        entry = self._where.get(id(s))
        if entry is not None and entry[1]() is s:
            return entry[0]
        return EXTERNAL

    def tokens(self, tensors):
        return tuple([self.token(t) for t in tensors])

    def made(self, event, outputs):
        for j, t in enumerate(outputs):
            self._put(t._storage, ("o", event, j))

    def excluded(self, outputs):
        for t in outputs:
            self._put(t._storage, ("e",))

    def constant(self, t, value=None):
        """t holds a constant of the call: elementwise's cached Python numbers (value None:
        t's own), or a fill of `value` (its shape is free, as every shape is here)."""
        a = t._storage.array
        v = a.tolist() if value is None else value
        self._put(t._storage, ("c", str(a.dtype), repr(v)))

    def host(self, t):
        """t was built from host data in the call."""
        self._put(t._storage, ("h",))


def mismatch(recorded, now):
    """MegEngine's reason for an input that came from `now` where the recording's came from
    `recorded`, or None when they agree."""
    if recorded == now or recorded[0] == "e" or now[0] == "e":
        return None
    if recorded[0] in "hx" and now[0] in "hx":  # data from outside the graph either way (a
        return None                             # Tensor built in the first call, cached after)
    if recorded[0] == "o":
        return "input id mismatch" if now[0] == "o" else "expect internal node, got external"
    if now[0] == "o":
        return "expect external node, got internal"
    if recorded[0] == "c" and now[0] == "c":
        return "tensors not equals"
    return "input id mismatch"
