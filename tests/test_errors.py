"""Bad input gets a clear error: the right exception type, naming the function or op and the
shapes/dtypes involved. One row per case."""
import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
import engine.optimizer as optim
from engine.autodiff import GradManager


def T(*shape, dtype="float32"):
    return mge.tensor(np.ones(shape, dtype=dtype))


CASES = [
    # (id, call, exception, pattern the message must match)
    ("broadcast", lambda: T(2, 3) + T(4), ValueError, r"Add.*\(2, 3\).*\(4,\)"),
    ("broadcast_mul", lambda: F.mul(T(2, 3), T(2)), ValueError, r"Mul.*\(2, 3\).*\(2,\)"),
    ("where_mask_dtype", lambda: F.where(T(3), T(3), T(3)), TypeError, r"where: mask.*bool"),
    ("where_shapes", lambda: F.where(T(3, dtype="bool"), T(2), T(3)), ValueError,
     r"Where.*\(3,\).*\(2,\)"),
    ("sum_axis", lambda: F.sum(T(2, 3), axis=2), ValueError, r"sum: axis 2 is out of range"),
    ("mean_axis", lambda: F.mean(T(2, 3), axis=-3), ValueError, r"mean: axis -3"),
    ("argmax_axis", lambda: F.argmax(T(2, 3), axis=5), ValueError, r"argmax: axis 5"),
    ("axis_type", lambda: F.sum(T(2), axis=1.5), TypeError, r"sum: axis must be an int"),
    ("repeated_axis", lambda: F.sum(T(2, 3), axis=(1, -1)), ValueError, r"sum: repeated axis"),
    ("max_empty", lambda: F.max(T(0)), ValueError, r"max: reduction over an empty tensor"),
    ("reshape_size", lambda: F.reshape(T(2, 3), (4, 2)), ValueError,
     r"reshape: cannot reshape \(2, 3\).*\(4, 2\)"),
    ("reshape_two_unknown", lambda: T(6).reshape(-1, -1), ValueError, r"reshape: invalid"),
    ("transpose_pattern", lambda: F.transpose(T(2, 3), (0, 0)), ValueError,
     r"transpose: pattern \(0, 0\)"),
    ("broadcast_to", lambda: F.broadcast_to(T(3, 2), (3, 3)), ValueError,
     r"broadcast_to: cannot broadcast shape \(3, 2\) to \(3, 3\)"),
    ("concat_shapes", lambda: F.concat([T(2, 3), T(2, 4)]), ValueError,
     r"concat: shapes .*\(2, 3\).*\(2, 4\)"),
    ("concat_not_list", lambda: F.concat(T(2)), TypeError, r"concat: expected a non-empty list"),
    ("stack_shapes", lambda: F.stack([T(2), T(3)]), ValueError, r"stack: all shapes"),
    ("split_uneven", lambda: F.split(T(5), 2), ValueError, r"split: cannot split axis 0 of size 5"),
    ("squeeze_non_one", lambda: F.squeeze(T(2, 3), 1), ValueError, r"squeeze: axis \[1\]"),
    ("gather_index_dtype", lambda: F.gather(T(2, 3), 1, T(2, 3)), TypeError,
     r"gather: index must be an integer tensor"),
    ("gather_shape", lambda: F.gather(T(2, 3), 1, T(3, 3, dtype="int32")), ValueError,
     r"gather: index of shape \(3, 3\)"),
    ("scatter_shape", lambda: F.scatter(T(2, 3), 0, T(1, 3, dtype="int32"), T(2, 3)), ValueError,
     r"scatter: index \(1, 3\) and source \(2, 3\)"),
    ("cond_take_shape", lambda: F.cond_take(T(2, dtype="bool"), T(3)), ValueError,
     r"cond_take: mask \(2,\) and x \(3,\)"),
    ("matmul_inner", lambda: F.matmul(T(2, 3), T(4, 5)), ValueError,
     r"matmul: inner dimensions differ: 3 .*\(2, 3\).* 4 .*\(4, 5\)"),
    ("matmul_batch", lambda: F.matmul(T(2, 2, 3), T(3, 3, 4)), ValueError,
     r"matmul: batch dims of shapes \(2, 2, 3\) and \(3, 3, 4\)"),
    ("matmul_scalar", lambda: F.matmul(T(), T(3)), ValueError, r"matmul: operands must have"),
    ("dot_shapes", lambda: F.dot(T(3), T(4)), ValueError, r"dot: expected two 1-D tensors"),
    ("topk_k", lambda: F.topk(T(2, 3), 4), ValueError, r"topk: k=4 is out of range"),
    ("sort_ndim", lambda: F.sort(T(2, 2, 2)), ValueError, r"sort: expected a 1-D or 2-D"),
    ("clip_bounds", lambda: F.clip(T(2), 1, 0), ValueError, r"clip: lower \(1\) is greater"),
    ("clip_none", lambda: F.clip(T(2)), ValueError, r"clip: at least one"),
    ("relu_int", lambda: F.relu(T(2, dtype="int32")), TypeError, r"relu: expected a floating"),
    ("linear_weight", lambda: F.nn.linear(T(4, 3), T(5, 2)), ValueError,
     r"linear: input of shape \(4, 3\) needs a weight of shape \(out, 3\), got \(5, 2\)"),
    ("one_hot_range", lambda: F.one_hot(mge.tensor([0, 3]), 3), ValueError,
     r"one_hot: values must be in \[0, 3\)"),
    ("pad_mode", lambda: F.nn.pad(T(2), ((1, 1),), mode="wrap"), ValueError,
     r"pad: mode must be one of"),
    ("pad_width", lambda: F.nn.pad(T(2, 2), ((1, 1),)), ValueError, r"pad: pad_width must hold"),
    ("pad_reflect_size", lambda: F.nn.pad(T(2), ((2, 0),), mode="reflect"), ValueError,
     r"pad: reflect padding \(2, 0\) must be smaller than the size 2"),
    ("dropout_prob", lambda: F.nn.dropout(T(2), 1.0), ValueError, r"dropout: drop_prob"),
    ("layer_norm_shape", lambda: F.nn.layer_norm(T(2, 3), (4,)), ValueError,
     r"layer_norm: normalized_shape \(4,\)"),
    ("ce_label_shape", lambda: F.nn.cross_entropy(T(4, 3), mge.tensor([0, 1])), ValueError,
     r"cross_entropy: label shape \(2,\) must be pred shape \(4, 3\)"),
    ("ce_label_dtype", lambda: F.nn.cross_entropy(T(2, 3), T(2)), TypeError,
     r"cross_entropy: label must be an integer"),
    ("ce_label_range", lambda: F.nn.cross_entropy(T(2, 3), mge.tensor([0, 3])), ValueError,
     r"cross_entropy: labels must be in \[0, 3\)"),
    ("ce_reduction", lambda: F.nn.cross_entropy(T(2, 3), mge.tensor([0, 1]), reduction="avg"),
     ValueError, r"cross_entropy: reduction must be one of"),
    ("l1_shapes", lambda: F.nn.l1_loss(T(4, 1), T(4)), ValueError,
     r"l1_loss: pred \(4, 1\) and label \(4,\)"),
    ("bce_shapes", lambda: F.nn.binary_cross_entropy(T(4), T(3)), ValueError,
     r"binary_cross_entropy: pred \(4,\) and label \(3,\)"),
    ("zeros_negative", lambda: F.zeros((2, -1)), ValueError, r"full: negative dimension"),
    ("arange_step", lambda: F.arange(0, 3, 0), ValueError, r"arange: step must not be zero"),
    ("bad_dtype", lambda: mge.tensor([1], dtype="complex64"), TypeError,
     r"dtype complex64 is not supported"),
    ("bad_device", lambda: mge.tensor([1], device="tpu0"), ValueError, r"unknown device 'tpu0'"),
    ("gpu_missing", lambda: mge.tensor([1], device="gpu0") if not mge.is_cuda_available() else
     (_ for _ in ()).throw(ValueError("no GPU requested but available")), ValueError,
     r"gpu0|GPU"),
    ("item_many", lambda: T(2).item(), ValueError, r"item: only a one-element tensor"),
    ("bool_many", lambda: bool(T(2)), ValueError, r"truth value of a tensor of shape \(2,\)"),
    ("too_many_indices", lambda: T(2, 3)[0, 0, 0], IndexError,
     r"getitem: too many indices \(3\) for a tensor of shape \(2, 3\)"),
    ("index_out_of_range", lambda: T(2, 3)[5], IndexError, r"GetItem: index 5 is out of bounds"),
    ("float_index", lambda: T(3)[T(2)], TypeError, r"getitem: indices must be integers"),
    ("attach_int", lambda: GradManager().attach(T(2, dtype="int32")), TypeError,
     r"GradManager.attach: only floating-point.*int32"),
    ("attach_non_tensor", lambda: GradManager().attach([np.ones(2)]), TypeError,
     r"GradManager.attach: expected Tensors"),
    ("backward_without_record", lambda: GradManager().attach(T(2)).backward(T(2).sum()),
     RuntimeError, r"GradManager.backward: no computation was recorded"),
    ("operand_type", lambda: T(2) + "a", TypeError, r"unsupported operand type str"),
    ("random_size", lambda: mge.random.normal(size="big"), TypeError, r"random.normal: size"),
    ("random_std", lambda: mge.random.normal(0, -1, (2,)), ValueError, r"random.normal: std"),
    # engine.module / engine.optimizer
    ("linear_features", lambda: M.Linear(0, 2), ValueError,
     r"Linear: in_features must be a positive int, got 0"),
    ("conv_groups", lambda: M.Conv2d(3, 4, 3, groups=2), ValueError,
     r"Conv2d: in_channels \(3\) and out_channels \(4\) must both be divisible by groups"),
    ("bn_input_ndim", lambda: M.BatchNorm2d(3)(T(2, 3)), ValueError,
     r"BatchNorm2d: expected a 4-D input, got shape \(2, 3\)"),
    ("embedding_float_index", lambda: M.Embedding(4, 2)(T(3)), TypeError,
     r"Embedding: indices must be an integer tensor, got float32"),
    ("load_state_dict_shape", lambda: M.Linear(2, 3).load_state_dict(
        {"weight": np.ones((2, 2)), "bias": np.ones(3)}), ValueError,
     r"load_state_dict \(Linear, strict=True\): mis-shaped keys: weight: expected \(3, 2\), "
     r"got \(2, 2\)"),
    ("load_state_dict_keys", lambda: M.Linear(2, 3).load_state_dict({"w": np.ones(1)}), KeyError,
     r"missing keys: \['bias', 'weight'\]; unexpected keys: \['w'\]"),
    ("init_fan_1d", lambda: M.init.xavier_uniform_(T(3)), ValueError,
     r"calculate_fan_in_and_fan_out: needs a tensor with at least 2 dims, got shape \(3,\)"),
    ("sgd_lr", lambda: optim.SGD([mge.Parameter([1.0])], lr=-1), ValueError,
     r"SGD: invalid learning rate -1"),
    ("optim_tensor", lambda: optim.Adam([T(2)], lr=0.1), TypeError,
     r"Adam: can only optimize Parameters, got Tensor of shape \(2,\)"),
    ("optim_grad_shape", lambda: _step_with_grad(np.ones((2, 2), "float32")), ValueError,
     r"SGD.step: gradient of shape \(2, 2\) does not match its parameter of shape \(3,\)"),
    ("multistep_milestones", lambda: optim.MultiStepLR(
        optim.SGD([mge.Parameter([1.0])], lr=0.1), [3, 1]), ValueError,
     r"MultiStepLR: milestones must be increasing, got \[3, 1\]"),
    ("clip_value_bounds", lambda: optim.clip_grad_value([], 1, 0), ValueError,
     r"clip_grad_value: lower \(1\) is greater than upper \(0\)"),
]


def _step_with_grad(grad):
    p = mge.Parameter(np.ones(3, "float32"))
    p.grad = mge.tensor(grad)
    optim.SGD([p], lr=0.1).step()


@pytest.mark.parametrize("call,exc,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
