"""convert_module_format / convert_tensor_format: MegEngine's NCHW -> NHWC switch.

MegEngine keeps a tensor's logical shape and values and tags it `format="nhwc"`, which lets its
kernels pick channel-last algorithms. engine's kernels are NCHW only, so here the tag is all
there is: the logical layout, the values and the results of every op stay exactly as before,
and the tag is set only where engine's Tensor has a `format` attribute to hold it (it changes
no computation). Nothing is transposed: an engine result never depends on these calls.
"""
from copy import deepcopy


def _is_nchw_format(x):
    return x.ndim in (4, 5) and getattr(x, "format", "default") != "nhwc"


def _set_format(x, fmt):
    try:
        x.format = fmt
    except AttributeError:  # a Tensor without a format slot: nothing to record the tag in
        pass


def convert_tensor_format(x, inplace: bool = True):
    r"""Convert NCHW Tensor to NHWC Tensor.

    In engine the conversion is a tag: ``x`` keeps its NCHW shape and values (engine's kernels
    run NCHW whatever the tag says) and gets ``format="nhwc"`` where the Tensor supports the
    attribute. Tensors that are not 4-d or 5-d are returned unchanged, as in MegEngine.

    Args:
        x: the tensor to convert.
        inplace: tag ``x`` itself (True) or a copy of it (False, which keeps ``x`` as it was).

    Returns:
        the converted tensor (``x`` itself when inplace).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> from engine import amp
        >>> x = mge.tensor(np.zeros((1, 3, 4, 4), "float32"))
        >>> amp.convert_tensor_format(x).shape  # the logical layout stays NCHW
        (1, 3, 4, 4)
    """
    if not _is_nchw_format(x):
        return x
    if not inplace:
        import engine.functional as F

        x = F.copy(x)  # a new tensor, differentiable like x
    _set_format(x, "nhwc")
    return x


def convert_module_format(module, inplace: bool = True):
    r"""Convert NCHW Module to NHWC Module.

    Every 4-d and 5-d parameter and buffer of ``module`` goes through
    :func:`convert_tensor_format` (a tag in engine; shapes, values and outputs are unchanged).

    Args:
        module: the module to convert.
        inplace: convert ``module`` itself (True) or a deep copy of it (False).

    Returns:
        the converted module.

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> from engine import amp
        >>> conv = M.Conv2d(3, 4, 3)
        >>> amp.convert_module_format(conv).weight.shape
        (4, 3, 3, 3)
    """
    if not inplace:
        module = deepcopy(module)
    for _, t in module.named_tensors():
        convert_tensor_format(t, inplace=True)
    return module
