"""Regenerate tests/data/megengine_api.json: MegEngine 1.13's public names and signatures.

The names come from MegEngine's API reference (the autosummary entries of the Documentation
repository's source/reference/*.rst) plus the module paths MegEngine users import that the
reference does not list (EXTRA_NAMES). Each is resolved in a live MegEngine 1.13 and recorded
with its kind and parameter list, which tests/test_api_surface.py compares with engine's.

    python3.10 -m venv /tmp/mge && /tmp/mge/bin/pip install megengine==1.13.0 numpy==1.23.5
    /tmp/mge/bin/python tools/gen_megengine_api.py \
        DOCS_REPO/source/reference tests/data/megengine_api.json

Not a dependency of engine nor of its tests: the JSON is committed.
"""
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

# Paths real MegEngine code imports that the API reference leaves out (seen in MegEngine/Models,
# BaseDet, YOLOX and MegEngine's own tests).
EXTRA_NAMES = [
    "megengine.logger.get_logger", "megengine.logger.set_log_file",
    "megengine.logger.set_log_level",
    "megengine.logger.enable_debug_log", "megengine.get_logger", "megengine.set_log_file",
    "megengine.set_log_level", "megengine.enable_debug_log", "megengine.__version__",
    "megengine.version.__version__", "megengine._full_sync",
    "megengine.config.async_level", "megengine.config.benchmark_kernel",
    "megengine.config.deterministic_kernel", "megengine.config.disable_memory_forwarding",
    "megengine.config._override",
    "megengine.functional.debug_param.get_execution_strategy",
    "megengine.functional.debug_param.set_execution_strategy",
    "megengine.functional.metric.topk_accuracy",
    "megengine.functional.loss.ctc_loss", "megengine.functional.loss.hinge_loss",
    "megengine.functional.loss.binary_cross_entropy", "megengine.functional.loss.cross_entropy",
    "megengine.functional.loss.l1_loss", "megengine.functional.loss.square_loss",
    "megengine.functional.vision.correlation", "megengine.functional.vision.cvt_color",
    "megengine.functional.vision.roi_align", "megengine.functional.vision.roi_pooling",
    "megengine.functional.vision.nms", "megengine.functional.vision.interpolate",
    "megengine.functional.vision.warp_affine", "megengine.functional.vision.warp_perspective",
    "megengine.functional.vision.remap",
    "megengine.utils.module_stats.module_stats", "megengine.utils.profiler.Profiler",
    "megengine.utils.dlpack.from_dlpack", "megengine.utils.dlpack.to_dlpack",
    "megengine.core.tensor.dtype.get_scale", "megengine.core.tensor.dtype.is_quantize",
    "megengine.core.tensor.dtype.qint8", "megengine.core.tensor.dtype.quint8",
    "megengine.core.tensor.utils.make_shape_tuple",
    "megengine.core._trace_option.use_symbolic_shape",
    "megengine.core._trace_option.set_symbolic_shape",
    "megengine.autodiff.Function",
    "megengine.module.Elemwise", "megengine.module.QuantStub", "megengine.module.DequantStub",
    "megengine.data.dataset.VisionDataset", "megengine.data.dataset.ConcatDataset",
    "megengine.optimizer.LAMBFp16",
]


# Packages whose whole public surface counts: their __all__, else the classes and functions they
# expose that MegEngine defines (not re-exported numpy, typing or submodules).
WHOLE_MODULES = [
    "megengine", "megengine.functional", "megengine.functional.nn", "megengine.functional.loss",
    "megengine.functional.vision", "megengine.functional.metric", "megengine.functional.math",
    "megengine.functional.elemwise", "megengine.functional.tensor", "megengine.module",
    "megengine.module.init", "megengine.optimizer", "megengine.data", "megengine.data.dataset",
    "megengine.data.transform", "megengine.data.sampler", "megengine.random", "megengine.amp",
    "megengine.hub", "megengine.device", "megengine.logger", "megengine.autodiff",
    "megengine.dtr", "megengine.config", "megengine.jit", "megengine.distributed",
    "megengine.quantization", "megengine.module.qat", "megengine.module.quantized",
    "megengine.traced_module",
]


def module_names(path):
    mod = importlib.import_module(path)
    public = getattr(mod, "__all__", None)
    if public is None:
        public = []
        for n in dir(mod):
            try:
                obj = getattr(mod, n)
            except Exception:  # a property that needs set-up (distributed.backend)
                continue
            if (not n.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                    and getattr(obj, "__module__", "").startswith("megengine")):
                public.append(n)
    # functional.math/elemwise/tensor are implementation files: their names count at F.*
    if path in ("megengine.functional.math", "megengine.functional.elemwise",
                "megengine.functional.tensor"):
        path = "megengine.functional"
    return [f"{path}.{n}" for n in public]


def reference_names(folder):
    names = []
    for rst in sorted(Path(folder).glob("*.rst")):
        module, in_summary = None, False
        for line in rst.read_text(encoding="utf-8").splitlines():
            m = re.match(r"\.\. (?:currentmodule|py:module):: (\S+)", line)
            if m:
                module = m.group(1)
                continue
            if line.startswith(".. autosummary::"):
                in_summary = True
                continue
            if in_summary:
                if not line.strip() or line.strip().startswith(":"):
                    continue
                if not line.startswith(" "):
                    in_summary = False
                    continue
                entry = line.strip()
                if module and re.fullmatch(r"[\w.]+", entry) and not entry.startswith("megengine"):
                    names.append(f"{module}.{entry}")
    return names


def resolve(dotted):
    """(object, found) as a user reaches it: attributes first, submodule imports otherwise."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, attr in enumerate(parts[1:], start=1):
        try:
            if hasattr(obj, attr):
                obj = getattr(obj, attr)
                continue
        except Exception:  # a property that needs set-up (distributed.backend): it exists
            return None, True
        try:
            obj = importlib.import_module(".".join(parts[: i + 1]))
        except Exception:
            return None, False
    return obj, True


def describe(obj):
    if obj is None:
        return "value", None
    if inspect.ismodule(obj):
        return "module", None
    kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "value"
    try:
        sig = inspect.signature(obj.__init__ if kind == "class" else obj)
    except (TypeError, ValueError):
        return kind, None
    params = [p for p in sig.parameters.values() if p.name != "self"]
    return kind, [[p.name, p.kind.name, None if p.default is inspect.Parameter.empty
                   else repr(p.default)] for p in params]


def main(folder, out):
    import megengine

    rows = {}
    whole = [n for m in WHOLE_MODULES for n in module_names(m)]
    for name in reference_names(folder) + EXTRA_NAMES + whole:
        if name in rows:
            continue
        obj, ok = resolve(name)
        if not ok:
            print("unresolved in MegEngine:", name, file=sys.stderr)
            continue
        kind, params = describe(obj)
        rows[name] = {"kind": kind, "params": params}
    Path(out).write_text(json.dumps({"megengine": megengine.__version__, "names": rows},
                                    indent=1, sort_keys=True) + "\n")
    print(f"{len(rows)} names written to {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
