"""trace.dump's input_data: test cases written into the graph file (MegEngine writes them for
load_and_run), each the inputs and the outputs the graph gave on them when it was dumped, so a
deployment can check itself (GraphModel.testcases).

A test case is a string, MegEngine's format: "var0:file0;var1:file1" (the name may be left out
when the graph has one input), where a file is a .npy / pickled numpy array, or
"#rand(min, max[, shape...])" for uniform random data (no shape: the input's own; a trailing
"..." keeps the rest of the input's shape). "@file" reads one test case per line of file.
`repeat` tiles each array that many times along the first axis.
"""
import re

import numpy as np

_RAND = re.compile(r"^#rand\((.*)\)$")


def parse(input_data, inputs, repeat=1, where="trace.dump"):
    """[{input name: array}] for input_data (a string or a list of them); inputs: [(name,
    shape, dtype)] of the graph."""
    items = [input_data] if isinstance(input_data, str) else list(input_data)
    lines = []
    for item in items:
        if item.startswith("@"):
            with open(item[1:]) as f:
                lines += [ln.strip() for ln in f if ln.strip()]
        else:
            lines.append(item)
    return [_case(line, inputs, repeat, where) for line in lines]


def _case(text, inputs, repeat, where):
    specs = {name: (shape, dtype) for name, shape, dtype in inputs}
    case = {}
    for part in text.split(";"):
        name, value = _split(part.strip(), inputs, where)
        if name not in specs:
            raise ValueError(f"{where}: input_data names {name!r}; the graph's inputs are "
                             f"{list(specs)}")
        shape, dtype = specs[name]
        a = _value(value, shape, dtype, where)
        if repeat > 1:
            a = np.concatenate([a] * repeat, axis=0)
        case[name] = a
    missing = [n for n in specs if n not in case]
    if missing:
        raise ValueError(f"{where}: input_data {text!r} gives no value for input(s) {missing}")
    return case


def _split(part, inputs, where):
    if part.startswith("#") or ":" not in part:
        if len(inputs) != 1:
            raise ValueError(f"{where}: input_data {part!r} needs an input name "
                             f"(name:value); the graph has inputs {[n for n, _, _ in inputs]}")
        return inputs[0][0], part
    name, _, value = part.partition(":")
    return name, value


def _value(value, shape, dtype, where):
    m = _RAND.match(value.replace(" ", ""))
    if m:
        parts = m.group(1).split(",")
        if len(parts) < 2:
            raise ValueError(f"{where}: {value!r}: #rand needs (min, max[, shape...])")
        low, high = float(parts[0]), float(parts[1])
        dims = parts[2:]
        if not dims:
            out_shape = tuple(shape)
        elif dims[-1] == "...":
            lead = tuple(int(d) for d in dims[:-1])
            out_shape = lead + tuple(shape)[len(lead):]
        else:
            out_shape = tuple(int(d) for d in dims)
        return np.random.uniform(low, high, out_shape).astype(dtype)
    try:
        a = np.load(value, allow_pickle=True)  # the user's own data file, as MegEngine reads
    except (OSError, ValueError) as e:
        raise ValueError(f"{where}: input_data file {value!r} is not a numpy array file ({e}); "
                         "images are not read (MegEngine reads them with OpenCV)") from None
    return np.asarray(a).astype(dtype, copy=False)
