"""Graph passes over a captured inference program (trace.dump's optimize_for_inference, and
engine.jit.load's graph): the ones that pay on a graph whose parameters are constants.

    fold_constants   an op whose inputs are all constants runs once, at dump time (eval-mode
                     BatchNorm's scale = weight / sqrt(var + eps) and shift become constants)
    fold_into_conv   conv(x, w, b) followed by a per-output-channel `* s`, `+ t` or `- t` with
                     constant s, t becomes conv(x, w * s, b * s + t): eval-mode BatchNorm (and a
                     separate bias add) disappears into the conv before it
    fuse_conv_relu   conv followed by ReLU becomes one Conv2dRelu (the ReLU in the conv's
                     output pass)
    prune            drops what no output depends on

A pass rewrites only when the value it removes has exactly one reader and is not returned,
so every output keeps its meaning. Folding reorders float arithmetic (w * s instead of
conv(x, w) * s), so results agree with the unoptimised graph to rounding, not bit for bit.

The graph is a list of nodes (dicts: "op", "attrs", "ins", "outs", or "random" nodes) over value
slots, with `consts` (slot -> numpy array) and `specs` (slot -> (shape, dtype)).
"""
import numpy as np

from ..ops import conv as _conv
from ..ops import elemwise as _ew
from ..ops import nn as _nn

# Folding never grows the file by more than this per folded value beyond its inputs' size
# (a broadcast of a scalar to a large shape stays an op).
_FOLD_GROWTH_BYTES = 1 << 20


def optimize(nodes, consts, specs, output_slots):
    nodes = fold_constants(nodes, consts, specs)
    nodes = fold_into_conv(nodes, consts, specs, output_slots)
    nodes = fuse_conv_relu(nodes, output_slots)
    return prune(nodes, consts, output_slots)


def fold_constants(nodes, consts, specs):
    kept = []
    for n in nodes:
        if "op" not in n or not n["ins"] or not all(s in consts for s in n["ins"]):
            kept.append(n)
            continue
        op = n["op"]
        ins = [consts[s] for s in n["ins"]]
        out_bytes = sum(int(np.prod(specs[s][0], dtype=np.int64)) * np.dtype(specs[s][1]).itemsize
                        for s in n["outs"])
        if out_bytes > sum(a.nbytes for a in ins) + _FOLD_GROWTH_BYTES:
            kept.append(n)
            continue
        out = op.forward(np, *ins, **n["attrs"])
        for s, o in zip(n["outs"], out if op.n_outputs > 1 else (out,)):
            consts[s] = np.asarray(o)
    return kept


def _readers(nodes):
    count = {}
    for n in nodes:
        for s in n.get("ins", ()):
            count[s] = count.get(s, 0) + 1
    return count


def _channel_vector(c, out_shape):
    """The per-output-channel vector of constant c broadcast against a conv output of
    out_shape (N, O, H, W), or None when c varies along another axis."""
    if c.ndim > len(out_shape):
        return None
    full = c.reshape((1,) * (len(out_shape) - c.ndim) + c.shape)
    o = out_shape[1]
    if any(d != 1 for i, d in enumerate(full.shape) if i != 1) or full.shape[1] not in (1, o):
        return None
    return np.broadcast_to(full.reshape(-1), (o,))


def fold_into_conv(nodes, consts, specs, output_slots):
    changed = True
    while changed:
        changed = False
        readers = _readers(nodes)
        made_by = {s: n for n in nodes for s in n.get("outs", ())}
        for i, n in enumerate(nodes):
            op = n.get("op")
            if op not in (_ew.Mul, _ew.Add, _ew.Sub):
                continue
            a, b = n["ins"]
            y, c = (a, b) if b in consts else (b, a) if a in consts else (None, None)
            if y is None or (op is _ew.Sub and y != a):  # (c - y is not conv-shaped)
                continue
            conv = made_by.get(y)
            if (conv is None or conv.get("op") is not _conv.Conv2d or readers.get(y) != 1
                    or y in output_slots or conv["ins"][1] not in consts
                    or (len(conv["ins"]) > 2 and conv["ins"][2] not in consts)
                    or np.dtype(specs[y][1]) != np.float32
                    or np.dtype(specs[n["outs"][0]][1]) != np.float32):
                continue
            v = _channel_vector(consts[c], specs[y][0])
            if v is None or np.broadcast_shapes(consts[c].shape, specs[y][0]) != specs[y][0]:
                continue
            _fold(conv, op, v.astype(np.float32), consts, specs)
            conv["outs"] = n["outs"]
            del nodes[i]
            changed = True
            break
    return nodes


def _fold(conv, op, v, consts, specs):
    w_slot = conv["ins"][1]
    w = consts[w_slot]
    o = w.shape[0]
    b = (consts[conv["ins"][2]].reshape(o) if len(conv["ins"]) > 2
         else np.zeros(o, np.float32))
    if op is _ew.Mul:
        w, b = w * v.reshape(o, 1, 1, 1), b * v
    else:
        b = b + v if op is _ew.Add else b - v
    # New slots for the folded constants: the old ones may be read elsewhere (a shared weight).
    new_w, new_b = max(specs) + 1, max(specs) + 2
    consts[new_w], specs[new_w] = w.astype(np.float32), (w.shape, np.float32)
    consts[new_b] = b.astype(np.float32).reshape(1, o, 1, 1)
    specs[new_b] = ((1, o, 1, 1), np.float32)
    conv["ins"] = [conv["ins"][0], new_w, new_b]


def fuse_conv_relu(nodes, output_slots):
    readers = _readers(nodes)
    made_by = {s: n for n in nodes for s in n.get("outs", ())}
    kept = []
    for n in nodes:
        if n.get("op") is _nn.Relu:
            conv = made_by.get(n["ins"][0])
            y = n["ins"][0]
            if (conv is not None and conv.get("op") is _conv.Conv2d and readers.get(y) == 1
                    and y not in output_slots):
                conv["op"] = _conv.Conv2dRelu
                conv["outs"] = n["outs"]
                for s in n["outs"]:
                    made_by[s] = conv
                continue
        kept.append(n)
    return kept


def prune(nodes, consts, output_slots):
    """Drops nodes whose outputs nothing reads and that are not returned (backwards), then the
    constants nothing reads. Random draws stay: each advances engine's RNG stream, and the
    draws after it depend on that."""
    needed = set(output_slots)
    kept = []
    for n in reversed(nodes):
        if "random" in n or any(s in needed for s in n.get("outs", ())):
            kept.append(n)
            needed.update(n.get("ins", ()))
    for s in [s for s in consts if s not in needed]:
        del consts[s]
    return kept[::-1]
