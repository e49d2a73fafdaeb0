"""MegEngine's external-runtime operators (TensorRT, Cambricon, Atlas, MagicMind engines run as
one op, and extern_opr_subgraph). engine links none of these runtimes: each function raises
RuntimeError naming what it needs, as MegEngine does when built without that runtime."""

__all__ = ["extern_opr_subgraph", "tensorrt_runtime_opr", "cambricon_runtime_opr",
           "atlas_runtime_opr", "magicmind_runtime_opr"]


def _unavailable(fn, runtime):
    raise RuntimeError(f"{fn}: engine is not built with {runtime}; it runs graphs with its own "
                       "kernels only (engine.jit.load)")


def extern_opr_subgraph(inputs, output_shapes, dump_name, dump_data, output_dtypes=None):
    _unavailable("extern_opr_subgraph", "MegBrain's extern C opr loader")


def tensorrt_runtime_opr(inputs, *, data=None):
    _unavailable("tensorrt_runtime_opr", "TensorRT")


def cambricon_runtime_opr(inputs, data, symbol, tensor_dim_mutable):
    _unavailable("cambricon_runtime_opr", "Cambricon's runtime")


def atlas_runtime_opr(inputs, data):
    _unavailable("atlas_runtime_opr", "Huawei Atlas's runtime")


def magicmind_runtime_opr(inputs, data):
    _unavailable("magicmind_runtime_opr", "Cambricon MagicMind")
