"""RNNCell / LSTMCell / RNN / LSTM: against torch.nn with the same weights (outputs, final
states, gradients of input, initial states and weights), MegEngine's parameter names, shapes and
flat weight layout, and bad inputs."""
import numpy as np
import pytest

import engine as mge
import engine.module as M
from engine.autodiff import GradManager

torch = pytest.importorskip("torch")


def randn(*shape):
    return np.random.randn(*shape).astype("float32")


def torch_weights(m):
    """torch parameter dict (weight_ih_l0, ..._reverse) of the slices of m._flatten_weights,
    cut in MegEngine's flat order (per layer, per direction: W_ih, W_hh, b_ih, b_hh)."""
    flat = torch.tensor(m._flatten_weights.numpy().ravel(), requires_grad=True)
    gate, out, pos = m._flatten_weights.shape[0], {}, 0
    for layer in range(m.num_layers):
        for d in range(m.num_directions):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            in_size = m.input_size if layer == 0 else m.num_directions * m.hidden_size
            shapes = [("weight_ih", (gate, in_size)), ("weight_hh", (gate, m.hidden_size))]
            if m.bias:
                shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
            for name, shape in shapes:
                size = int(np.prod(shape))
                out[name + suffix] = flat[pos:pos + size].view(shape)
                pos += size
    assert pos == flat.numel()
    return flat, out


CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=2, bias=False, batch_first=True),
    dict(num_layers=3, bidirectional=True, batch_first=True),
]


@pytest.mark.parametrize("kind", ["RNN-tanh", "RNN-relu", "LSTM"])
@pytest.mark.parametrize("kw", CONFIGS, ids=str)
@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
def test_rnn_and_lstm_match_torch(kind, kw, with_state):
    seq, batch, n_in, hidden = 5, 3, 4, 6
    if kind == "LSTM":
        m, tm = M.LSTM(n_in, hidden, **kw), torch.nn.LSTM(n_in, hidden, **kw)
    else:
        nl = kind.split("-")[1]
        m = M.RNN(n_in, hidden, nonlinearity=nl, **kw)
        tm = torch.nn.RNN(n_in, hidden, nonlinearity=nl, **kw)
    flat, tw = torch_weights(m)
    x = randn(batch, seq, n_in) if kw.get("batch_first") else randn(seq, batch, n_in)
    n_states = 2 if kind == "LSTM" else 1
    states = [randn(m.num_directions * m.num_layers, batch, hidden) for _ in range(n_states)]

    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in states]
    targ = (tuple(st) if kind == "LSTM" else st[0]) if with_state else None
    yt, ht = torch.func.functional_call(tm, tw, (xt, targ))
    ht = list(ht) if kind == "LSTM" else [ht]
    wy = randn(*yt.shape)
    loss = (yt * torch.tensor(wy)).sum() + sum((h * (k + 2)).sum() for k, h in enumerate(ht))
    loss.backward()

    xe = mge.Tensor(x)
    se = [mge.Tensor(s) for s in states]
    gm = GradManager().attach([xe, m._flatten_weights] + se)
    with gm:
        earg = (tuple(se) if kind == "LSTM" else se[0]) if with_state else None
        ye, he = m(xe, earg)
        he = list(he) if kind == "LSTM" else [he]
        gm.backward((ye * mge.Tensor(wy)).sum()
                    + sum((h * (k + 2)).sum() for k, h in enumerate(he)))
    tol = dict(atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(ye.numpy(), yt.detach().numpy(), **tol)
    for h, t in zip(he, ht):
        np.testing.assert_allclose(h.numpy(), t.detach().numpy(), **tol)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), **tol)
    np.testing.assert_allclose(m._flatten_weights.grad.numpy().ravel(), flat.grad.numpy(), **tol)
    if with_state:
        for s, t in zip(se, st):
            np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), **tol)


@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch(bias):
    x, h, c = randn(3, 4), randn(3, 5), randn(3, 5)
    for m, tm in [(M.RNNCell(4, 5, bias), torch.nn.RNNCell(4, 5, bias)),
                  (M.RNNCell(4, 5, bias, "relu"), torch.nn.RNNCell(4, 5, bias, "relu")),
                  (M.LSTMCell(4, 5, bias), torch.nn.LSTMCell(4, 5, bias))]:
        lstm = isinstance(m, M.LSTMCell)
        tw = {k: torch.tensor(v, requires_grad=True) for k, v in m.state_dict().items()
              if bias or k.startswith("weight")}
        xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
        out = torch.func.functional_call(tm, tw, (xt, (ht, ct) if lstm else ht))
        out = list(out) if lstm else [out]
        sum((o * (k + 1)).sum() for k, o in enumerate(out)).backward()
        xe, he, ce = mge.Tensor(x), mge.Tensor(h), mge.Tensor(c)
        gm = GradManager().attach([xe, he, ce] + list(m.parameters()))
        with gm:
            res = m(xe, (he, ce) if lstm else he)
            res = list(res) if lstm else [res]
            gm.backward(sum((o * (k + 1)).sum() for k, o in enumerate(res)))
        for r, o in zip(res, out):
            np.testing.assert_allclose(r.numpy(), o.detach().numpy(), atol=1e-5, rtol=1e-5)
        for e, t in [(xe, xt), (he, ht)] + ([(ce, ct)] if lstm else []):
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=1e-5, rtol=1e-5)
        for name, p in m.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), tw[name].grad.numpy(), atol=1e-5,
                                       rtol=1e-5, err_msg=name)
        default = m(xe)  # no state: zeros
        zero = m(xe, (mge.Tensor(np.zeros_like(h)),) * 2 if lstm else mge.Tensor(np.zeros_like(h)))
        for a, b in zip(default if lstm else [default], zero if lstm else [zero]):
            np.testing.assert_allclose(a.numpy(), b.numpy())


def test_parameter_names_and_shapes_are_megengine_s():
    # keys and shapes as MegEngine 1.13 reports them for the same layers
    lstm = M.LSTM(3, 4, 2, bidirectional=True)
    shapes = {k: v.shape for k, v in lstm.state_dict().items()}
    assert shapes["_flatten_weights"] == (16, 46)
    assert shapes["cells.1.1.weight_ih"] == (16, 8) and shapes["cells.0.1.weight_hh"] == (16, 4)
    assert len(shapes) == 17 and shapes["cells.0.0.bias_ih"] == (16,)
    rnn = M.RNN(3, 4, bias=False)
    assert {k: v.shape for k, v in rnn.state_dict().items()} == {
        "_flatten_weights": (4, 7), "cells.0.0.bias_hh": (4,), "cells.0.0.bias_ih": (4,),
        "cells.0.0.weight_hh": (4, 4), "cells.0.0.weight_ih": (4, 3)}
    # without bias the zero biases are buffers, not Parameters
    assert [n for n, _ in rnn.cells[0][0].named_parameters()] == ["weight_hh", "weight_ih"]
    assert np.all(rnn.cells[0][0].bias_ih.numpy() == 0)
    cell = M.LSTMCell(3, 4)
    assert sorted(cell.state_dict()) == ["bias_hh", "bias_ih", "weight_hh", "weight_ih"]
    stdv = 1 / np.sqrt(4)
    assert all(np.abs(p.numpy()).max() <= stdv for p in lstm.parameters())


def test_outputs_match_megengine_1_13_for_the_same_flat_weights():
    """tests/data/megengine_rnn_outputs.npz: MegEngine 1.13 (CPU) run on random
    _flatten_weights w and input x (seq 5, batch 2, 3 features, hidden 4, two bidirectional
    layers, zero initial states): M.LSTM(3, 4, 2, bidirectional=True) -> lstm210_{o,h,c} and
    M.RNN(3, 4, 2, bidirectional=True, nonlinearity="relu") -> rnn210_{o,h}."""
    import os

    ref = np.load(os.path.join(os.path.dirname(__file__), "data", "megengine_rnn_outputs.npz"))
    for name, m in [("lstm210", M.LSTM(3, 4, 2, bidirectional=True)),
                    ("rnn210", M.RNN(3, 4, 2, bidirectional=True, nonlinearity="relu"))]:
        state = m.state_dict()
        state["_flatten_weights"] = ref[name + "_w"]
        m.load_state_dict(state)
        out, states = m(mge.Tensor(ref[name + "_x"]))
        states = states if isinstance(states, tuple) else (states,)
        np.testing.assert_allclose(out.numpy(), ref[name + "_o"], atol=1e-6)
        for state, key in zip(states, "hc"):
            np.testing.assert_allclose(state.numpy(), ref[f"{name}_{key}"], atol=1e-6)


def test_proj_size_is_checked_and_has_no_effect_as_in_megengine():
    m = M.LSTM(3, 4, proj_size=2)
    out, (h, c) = m(mge.Tensor(randn(5, 2, 3)))
    assert out.shape == (5, 2, 4) and h.shape == (1, 2, 4) and c.shape == (1, 2, 4)
    with pytest.raises(ValueError, match="proj_size \\(4\\) has to be smaller than hidden_size"):
        M.LSTM(3, 4, proj_size=4)


def test_dropout_between_layers_only_in_training():
    m = M.RNN(3, 8, 2, dropout=0.5)
    x = mge.Tensor(randn(4, 2, 3))
    m.eval()
    np.testing.assert_array_equal(m(x)[0].numpy(), m(x)[0].numpy())
    mge.random.seed(1)
    m.train()
    a, b = m(x)[0].numpy(), m(x)[0].numpy()
    assert not np.array_equal(a, b)
    single = M.RNN(3, 8, 1, dropout=0.5)  # no layer above: nothing to drop
    np.testing.assert_array_equal(single(x)[0].numpy(), single(x)[0].numpy())


def test_bad_inputs_and_arguments_raise_clear_errors():
    m = M.LSTM(3, 4, 2)
    with pytest.raises(ValueError, match="LSTM: expected a 3-D input with last dimension 3, "
                                         "got shape \\(5, 2, 7\\)"):
        m(mge.Tensor(randn(5, 2, 7)))
    with pytest.raises(ValueError, match="LSTM: h_0 of shape \\(1, 2, 4\\) does not match the "
                                         "expected \\(2, 2, 4\\)"):
        m(mge.Tensor(randn(5, 2, 3)), (mge.Tensor(randn(1, 2, 4)), mge.Tensor(randn(2, 2, 4))))
    with pytest.raises(TypeError, match="LSTM: hx must be a pair"):
        m(mge.Tensor(randn(5, 2, 3)), mge.Tensor(randn(2, 2, 4)))
    with pytest.raises(ValueError, match="RNNCell: hx of shape \\(2, 5\\)"):
        M.RNNCell(3, 4)(mge.Tensor(randn(2, 3)), mge.Tensor(randn(2, 5)))
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu'"):
        M.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="RNN: dropout must be a float in \\[0, 1\\]"):
        M.RNN(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="LSTMCell: hidden_size must be a positive int"):
        M.LSTMCell(3, 0)


def test_megengine_helper_methods():
    x = mge.Tensor(randn(5, 2, 3))
    lstm = M.LSTM(3, 4, 2)
    h0, c0 = lstm.init_hidden(2)
    assert h0.shape == (2, 2, 4) and not h0.numpy().any() and not c0.numpy().any()
    out, (h, c) = lstm.apply_op(x, (h0, c0))
    ref_out, (ref_h, _) = lstm(x)
    np.testing.assert_array_equal(out.numpy(), ref_out.numpy())
    assert lstm.get_output_from_hidden((h, c)) is h
    rnn = M.RNN(3, 4)
    out, h = rnn.apply_op(x, rnn.init_hidden(2))
    np.testing.assert_array_equal(h.numpy(), rnn(x)[1].numpy())
    assert rnn.get_output_from_hidden(h) is h
