"""GradManager: one test per rule of the tape (DESIGN §3, MegEngine's autodiff semantics)."""
import gc

import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager


def rand(*shape, device="cpu0", low=-1.0, high=1.0):
    return mge.Tensor(np.random.uniform(low, high, shape).astype("float32"), device=device)


# ------------------------------------------------------------------------------ attach
def test_attach_returns_self_and_takes_one_tensor_or_a_list(device):
    a, b, c = rand(3, device=device), rand(3, device=device), rand(3, device=device)
    gm = GradManager()
    assert gm.attach(a) is gm
    assert gm.attach([b, c]) is gm
    with gm:
        gm.backward((a * 2 + b * 3 + c * 4).sum())
    for t, k in ((a, 2), (b, 3), (c, 4)):
        assert t.grad is not None
        np.testing.assert_allclose(t.grad.numpy(), np.full(3, k, "float32"))


def test_attach_rejects_non_float_tensor_naming_its_dtype(device):
    gm = GradManager()
    with pytest.raises(TypeError, match="int32"):
        gm.attach(mge.Tensor([1, 2, 3], device=device))
    with pytest.raises(TypeError, match="bool"):
        gm.attach([mge.Tensor([1.0], device=device), mge.Tensor([True], device=device)])


# --------------------------------------------------------------------------- recording
def test_record_release_and_context_manager(device):
    x = rand(4, device=device)
    gm = GradManager().attach(x)
    assert not gm.is_recording
    gm.record()
    assert gm.is_recording
    y = (x * x).sum()
    gm.release()
    assert not gm.is_recording
    z = x * 3  # computed after release: not recorded
    assert z._node is None
    with pytest.raises(RuntimeError, match="record"):
        gm.backward(y)

    with gm:
        assert gm.is_recording
        y = (x * x).sum()
    assert not gm.is_recording
    gm.record()
    y = (x * x).sum()
    gm.backward(y)
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy(), rtol=1e-6)


def test_backward_dy_defaults_to_ones(device):
    x = rand(2, 3, device=device)
    gm = GradManager().attach(x)
    with gm:
        gm.backward(x * x)  # non-scalar y: dy = ones_like(y)
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy(), rtol=1e-6)


def test_backward_explicit_dy_scales_the_gradient(device):
    x = rand(2, 3, device=device)
    dy = np.arange(6, dtype="float32").reshape(2, 3) - 2
    gm = GradManager().attach(x)
    with gm:
        gm.backward(x * x, dy=mge.Tensor(dy, device=device))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * dy, rtol=1e-6)


def test_grads_accumulate_across_backwards(device):
    x = rand(3, device=device)
    gm = GradManager().attach(x)
    with gm:
        gm.backward((x * 3).sum())
    with gm:
        gm.backward((x * x).sum())
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * x.numpy(), rtol=1e-6)


def test_second_backward_without_recording_raises(device):
    x = rand(3, device=device)
    gm = GradManager().attach(x)
    with gm:
        y = (x * x).sum()
        gm.backward(y)
        assert not gm.is_recording  # backward released the recording
        with pytest.raises(RuntimeError, match="record"):
            gm.backward(y)
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy(), rtol=1e-6)  # no double count


def test_backward_with_y_none_only_releases(device):
    x = rand(3, device=device)
    gm = GradManager().attach(x)
    gm.record()
    _ = x * 2
    gm.backward()
    assert not gm.is_recording
    assert x.grad is None
    with pytest.raises(RuntimeError, match="record"):
        gm.backward()


# --------------------------------------------------------------------------- callbacks
def test_callbacks_chain_in_order(device):
    x = rand(3, device=device)
    seen = []

    def double(t, g):
        seen.append(("double", t))
        return g * 2

    def plus_one(t, g):
        seen.append(("plus_one", t))
        return g + 1

    gm = GradManager().attach(x, callbacks=[double, plus_one])
    with gm:
        gm.backward((x * 3).sum())
    # (3 * 2) + 1 = 7; the other order would give (3 + 1) * 2 = 8
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 7.0, "float32"))
    assert [name for name, _ in seen] == ["double", "plus_one"]
    assert all(t is x for _, t in seen)


def test_single_callable_callback(device):
    x = rand(3, device=device)
    gm = GradManager().attach(x, callbacks=lambda t, g: g * 10)
    with gm:
        gm.backward(x.sum())
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 10.0, "float32"))


# ----------------------------------------------------------------------- what is reached
def test_attach_intermediate_during_recording(device):
    x = rand(2, 3, device=device)
    gm = GradManager().attach(x)
    with gm:
        h = x * 2
        gm.attach(h)
        y = (h * 3).sum()
        gm.backward(y)
    np.testing.assert_allclose(h.grad.numpy(), np.full((2, 3), 3.0, "float32"))
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 6.0, "float32"))


def test_unreached_attached_tensor_keeps_grad_none(device):
    x, unused = rand(3, device=device), rand(3, device=device)
    gm = GradManager().attach([x, unused])
    with gm:
        gm.backward((x * 2).sum())
    assert unused.grad is None
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 2.0, "float32"))


@pytest.mark.parametrize("branch", [F.sqrt, F.log])
def test_where_unselected_branch_gets_zeros(device, branch):
    # The gradient flowing into each branch of where is exactly zero where that branch was not
    # selected, even where the branch holds NaN or inf (sqrt/log of negatives and zero).
    xs = np.array([-4.0, -1.0, 0.0, 1.0, 4.0], "float32")
    x = mge.Tensor(xs, device=device)
    gm = GradManager().attach(x)
    with np.errstate(invalid="ignore", divide="ignore"), gm:
        a = branch(x)
        b = x * 3
        gm.attach([a, b])
        y = F.where(x > 0, a, b)
        gm.backward(y.sum())
    np.testing.assert_array_equal(a.grad.numpy(), (xs > 0).astype("float32"))
    np.testing.assert_array_equal(b.grad.numpy(), (xs <= 0).astype("float32"))
    # through x: 3 from b where not selected, branch' where selected
    expected = np.where(xs > 0, 0.5 / np.sqrt(np.abs(xs)) if branch is F.sqrt else
                        1 / np.where(xs == 0, 1, xs), 3.0)
    np.testing.assert_allclose(x.grad.numpy()[xs > 0], expected[xs > 0], rtol=1e-6)


def test_where_double_where_pattern_has_no_nan(device):
    # The usual guard against NaN from the unselected branch: feed it safe inputs.
    xs = np.array([-4.0, 0.0, 4.0], "float32")
    x = mge.Tensor(xs, device=device)
    gm = GradManager().attach(x)
    with gm:
        pos = x > 0
        y = F.where(pos, F.sqrt(F.where(pos, x, F.ones_like(x))), F.zeros_like(x))
        gm.backward(y.sum())
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 0.25])


# ---------------------------------------------------------------------- higher order
def test_nested_grad_managers_second_order(device):
    # MegEngine's own test: d/dx of (d cos x / dx) accumulated onto x.grad
    x = rand(10, device=device)
    xs = x.numpy()
    gm = GradManager().attach(x)
    gm2 = GradManager().attach(x)
    with gm:
        with gm2:
            y = F.cos(x)
            gm2.backward(y)
        np.testing.assert_allclose(x.grad.numpy(), -np.sin(xs), rtol=1e-5, atol=1e-6)
        gm.backward(x.grad)
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(xs) - np.cos(xs), rtol=1e-5, atol=1e-6)


def test_nested_grad_managers_third_order(device):
    x = rand(5, device=device, low=0.5, high=2.0)
    xs = x.numpy().astype("float64")
    gm1, gm2, gm3 = (GradManager().attach(x) for _ in range(3))
    with gm1:
        with gm2:
            with gm3:
                gm3.backward(x ** 3)
            g1, x.grad = x.grad, None
            np.testing.assert_allclose(g1.numpy(), 3 * xs ** 2, rtol=1e-5)
            gm2.backward(g1)
        g2, x.grad = x.grad, None
        np.testing.assert_allclose(g2.numpy(), 6 * xs, rtol=1e-5)
        gm1.backward(g2)
    np.testing.assert_allclose(x.grad.numpy(), np.full(5, 6.0), rtol=1e-5)


# --------------------------------------------------------------------- graph lifetime
def test_no_graph_when_nothing_records(device):
    x = rand(3, device=device)
    GradManager().attach(x)
    y = x * 2 + 1
    assert y._node is None
    gm = GradManager()
    with gm:  # recording, but nothing attached: still no graph
        z = rand(3, device=device) * 2
    assert z._node is None


def test_inference_loop_returns_memory(device):
    x = rand(100, 100, device=device)
    gm = GradManager().attach(x)
    gc.collect()
    start = mge.get_allocated_memory(device)
    for _ in range(5):
        y = F.relu(x * 2 + 1).sum()
        del y
    assert mge.get_allocated_memory(device) == start
    del gm


def test_training_loop_returns_memory(device):
    x = rand(100, 100, device=device)
    gm = GradManager().attach(x)
    gc.collect()
    start = mge.get_allocated_memory(device)
    for _ in range(3):
        with gm:
            loss = (F.relu(x * 2 + 1) * x).sum()
            gm.backward(loss)
        del loss
        x.grad = None
    assert mge.get_allocated_memory(device) == start


def test_backward_frees_the_graph(device):
    x = rand(3, device=device)
    gm = GradManager().attach(x)
    with gm:
        loss = F.exp(x * 2).sum()
        assert loss._node is not None and len(loss._node.inputs) > 0
        gm.backward(loss)
    assert loss._node is None or len(loss._node.inputs) == 0


def test_backward_keeps_the_graph_while_an_outer_manager_records(device):
    x = rand(3, device=device)
    outer = GradManager().attach(x)
    inner = GradManager().attach(x)
    with outer:
        with inner:
            loss = F.exp(x * 2).sum()
            inner.backward(loss)
        assert loss._node is not None and len(loss._node.inputs) > 0
        outer.backward(x.grad)  # the graph is still usable: d/dx sum(2 exp(2x)) = 4 exp(2x)
    xs = x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * xs) + 4 * np.exp(2 * xs),
                               rtol=1e-5)


# -------------------------------------------------------------------- multiple outputs
def test_backward_multiple_outputs_with_dy_list(device):
    x = rand(4, device=device)
    xs = x.numpy()
    d1 = np.array([1, 2, 3, 4], "float32")
    d2 = np.array([-1, 0.5, 2, 0], "float32")
    gm = GradManager().attach(x)
    with gm:
        y1, y2 = x * 2, x * x
        gm.backward([y1, y2], [mge.Tensor(d1, device=device), mge.Tensor(d2, device=device)])
    np.testing.assert_allclose(x.grad.numpy(), 2 * d1 + 2 * xs * d2, rtol=1e-6)


def test_backward_multiple_outputs_default_dy(device):
    x = rand(4, device=device)
    gm = GradManager().attach(x)
    with gm:
        gm.backward([x * 2, (x * x).sum()])
    np.testing.assert_allclose(x.grad.numpy(), 2 + 2 * x.numpy(), rtol=1e-6)


def test_backward_dy_shape_mismatch_raises(device):
    x = rand(2, 3, device=device)
    gm = GradManager().attach(x)
    with gm:
        with pytest.raises(ValueError, match=r"\(2, 3\)"):
            gm.backward(x * 2, dy=mge.Tensor(np.ones((3, 2), "float32"), device=device))
    gm2 = GradManager().attach(x)
    with gm2:
        with pytest.raises(ValueError):
            gm2.backward([x * 2, x * 3], [mge.Tensor(np.ones((2, 3), "float32"), device=device)])


# --------------------------------------------------------- reference: PyTorch and numpy
def _mlp_case():
    """(x, labels, [w1, b1, w2, b2]) for a 8 -> 16 -> 4 classifier on 6 samples."""
    rng = np.random.RandomState(1)
    xs = rng.randn(6, 8).astype("float32")
    labels = rng.randint(0, 4, size=6).astype("int32")
    w1, b1 = rng.randn(16, 8).astype("float32") * 0.3, rng.randn(16).astype("float32") * 0.1
    w2, b2 = rng.randn(4, 16).astype("float32") * 0.3, rng.randn(4).astype("float32") * 0.1
    return xs, labels, [w1, b1, w2, b2]


def _mlp_engine(xs, labels, weights, device="cpu0"):
    """Two Linear layers written with F.matmul / F.relu / F.cross_entropy: (loss, params)."""
    params = [mge.Parameter(a, device=device) for a in weights]
    W1, B1, W2, B2 = params
    gm = GradManager().attach(params)
    with gm:
        h = F.relu(F.matmul(mge.Tensor(xs, device=device), W1, transpose_b=True) + B1)
        logits = F.matmul(h, W2, transpose_b=True) + B2
        loss = F.cross_entropy(logits, mge.Tensor(labels, device=device))
        gm.backward(loss)
    return loss, params


def test_mlp_grads_match_numpy_reference(device):
    xs, labels, (w1, b1, w2, b2) = _mlp_case()
    loss, params = _mlp_engine(xs, labels, [w1, b1, w2, b2], device)
    # float64 reference, backpropagated by hand
    x = xs.astype("float64")
    a1 = x @ w1.T + b1
    h = np.maximum(a1, 0)
    z = h @ w2.T + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    rows = np.arange(len(labels))
    ref_loss = -np.log(p[rows, labels]).mean()
    dz = p.copy()
    dz[rows, labels] -= 1
    dz /= len(labels)
    da = (dz @ w2) * (a1 > 0)
    ref = [da.T @ x, da.sum(0), dz.T @ h, dz.sum(0)]
    np.testing.assert_allclose(loss.item(), ref_loss, rtol=1e-5)
    for prm, r in zip(params, ref):
        np.testing.assert_allclose(prm.grad.numpy(), r, rtol=1e-4, atol=1e-6)


def test_mlp_grads_match_torch():
    torch = pytest.importorskip("torch")
    xs, labels, (w1, b1, w2, b2) = _mlp_case()
    loss, params = _mlp_engine(xs, labels, [w1, b1, w2, b2])

    tp = [torch.tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]
    th = torch.relu(torch.tensor(xs) @ tp[0].T + tp[1])
    tloss = torch.nn.functional.cross_entropy(th @ tp[2].T + tp[3],
                                              torch.tensor(labels, dtype=torch.long))
    tloss.backward()

    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
    for p, t in zip(params, tp):
        assert p.grad.shape == tuple(t.shape)
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_inplace_update_of_attached_param_inside_recording_across_steps(device):
    # w *= mask while recording makes w an intermediate; after the optimizer step it must be a
    # leaf of the next recording again, with gradients of its own shape.
    import engine.optimizer as optim

    w = mge.Parameter(np.array([1.0, 2.0], "float32"), device=device)
    mask = mge.tensor(np.array([1.0, 0.0], "float32"), device=device)
    gm = GradManager().attach(w)
    opt = optim.SGD([w], lr=0.1)
    expected = np.array([1.0, 2.0])
    for _ in range(3):
        with gm:
            w *= mask
            gm.backward((w * w).sum())
        expected = expected * [1.0, 0.0]
        np.testing.assert_allclose(w.grad.numpy(), 2 * expected, rtol=1e-6)
        opt.step().clear_grad()
        expected = expected - 0.1 * 2 * expected
        np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6)


def test_each_param_gets_its_own_grad_object(device):
    a = mge.Parameter(np.ones(2, "float32"), device=device)
    b = mge.Parameter(np.ones(2, "float32"), device=device)
    halved = []
    gm = GradManager().attach([a, b], callbacks=lambda p, g: halved.append(p) or g * 0.5)
    with gm:
        gm.backward((a + b).sum())  # the backward of + hands one dy to both inputs
    assert a.grad is not b.grad
    a.grad *= 10
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 0.5])
    np.testing.assert_allclose(a.grad.numpy(), [5.0, 5.0])
    assert len(halved) == 2


def test_constant_y_gives_no_grads_and_does_not_collide(device):
    # an untracked y must not be mistaken for an attached tensor that lost its graph
    w = mge.Parameter(np.ones(2, "float32"), device=device)
    gm = GradManager().attach(w)
    with gm:
        gm.backward(mge.tensor(np.ones(2, "float32"), device=device).sum())
    assert w.grad is None


def test_gradmanager_detach_stops_tracking(device):
    a = mge.Parameter(np.ones(2, "float32"), device=device)
    b = mge.Parameter(np.ones(2, "float32"), device=device)
    gm = GradManager().attach([a, b])
    gm.detach(b)
    assert gm.is_attached(a) and not gm.is_attached(b)
    with gm:
        gm.backward((a * b).sum())
    assert a.grad is not None and b.grad is None
