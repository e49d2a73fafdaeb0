"""RNNCell, LSTMCell, RNN and LSTM with MegEngine's parameters and state_dict layout.

A cell holds weight_ih (G, input_size), weight_hh (G, hidden_size), bias_ih and bias_hh (G,),
with G = gates * hidden_size and the LSTM gates in the order i, f, g, o (torch's order too).
Without bias, bias_ih / bias_hh are zero buffers, not Parameters (MegEngine's choice).

RNN / LSTM keep MegEngine's two copies of the weights: `cells[layer][direction]` (cells that are
created, initialised and saved, but not used by forward) and `_flatten_weights`, the Parameter
forward reads. Its shape is (G, sum of (cell input size + hidden_size) + 2 * cells if bias) and
it is read as one flat buffer: for each layer, for each direction, weight_ih, weight_hh, then
bias_ih, bias_hh (each row-major), which is how MegEngine's kernel lays it out, so MegEngine
checkpoints load and run unchanged.
"""
import math
import numbers

import numpy as np

import engine.functional as F
from engine.tensor import Parameter, Tensor

from . import init
from .module import Module

__all__ = ["RNNCell", "LSTMCell", "RNN", "LSTM"]

_NONLINEARITIES = ("tanh", "relu")


def _check_size(value, name, layer, allow_zero=False):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or (
            value < 0 if allow_zero else value <= 0):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{layer}: {name} must be a {kind} int, got {value!r}")
    return int(value)


def _check_nonlinearity(nonlinearity, layer):
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return nonlinearity


def _check_input(inp, ndim, size, layer, what):
    if not isinstance(inp, Tensor):
        raise TypeError(f"{layer}: {what} must be a Tensor, got {type(inp).__name__}")
    if inp.ndim != ndim or inp.shape[-1] != size:
        raise ValueError(f"{layer}: expected a {ndim}-D {what} with last dimension {size}, "
                         f"got shape {tuple(inp.shape)}")


def _check_state(state, shape, layer, what):
    if not isinstance(state, Tensor):
        raise TypeError(f"{layer}: {what} must be a Tensor, got {type(state).__name__}")
    if tuple(state.shape) != tuple(shape):
        raise ValueError(f"{layer}: {what} of shape {tuple(state.shape)} does not match the "
                         f"expected {tuple(shape)}")


def _rnn_step(gi, h, weight_hh, bias_hh, nonlinearity):
    """h' = act(gi + h @ W_hh^T + b_hh), gi = x @ W_ih^T + b_ih already computed."""
    pre = gi + F.nn.linear(h, weight_hh, bias_hh)
    return F.tanh(pre) if nonlinearity == "tanh" else F.relu(pre)


def _lstm_step(gi, h, c, weight_hh, bias_hh):
    """One LSTM step from the input part of the gates gi (N, 4H); returns (h', c')."""
    gates = gi + F.nn.linear(h, weight_hh, bias_hh)
    hs = h.shape[-1]
    i = F.sigmoid(gates[:, :hs])
    f = F.sigmoid(gates[:, hs:2 * hs])
    g = F.tanh(gates[:, 2 * hs:3 * hs])
    o = F.sigmoid(gates[:, 3 * hs:])
    c = f * c + i * g
    return o * F.tanh(c), c


class RNNCellBase(Module):
    """The base of the one-step recurrent cells (RNNCell, LSTMCell): the weights of one cell
    with ``num_chunks`` gates (1 for RNN, 4 for LSTM), stacked gate by gate.

    Args:
        input_size: the number of features of the input x.
        hidden_size: the number of features of the hidden state h.
        bias: whether the cell learns the biases bias_ih and bias_hh (else they stay zero).
        num_chunks: the number of gates.

    Returns:
        The module; weight_ih (num_chunks * hidden_size, input_size), weight_hh
        (num_chunks * hidden_size, hidden_size), bias_ih and bias_hh (num_chunks * hidden_size,),
        each initialised ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Examples:
        >>> cell = M.LSTMCell(3, 4)
        >>> isinstance(cell, M.rnn.RNNCellBase)
        True
        >>> cell.weight_ih.shape, cell.weight_hh.shape, cell.bias_ih.shape
        ((16, 3), (16, 4), (16,))
    """

    def __init__(self, input_size, hidden_size, bias, num_chunks):
        super().__init__()
        layer = type(self).__name__
        self.input_size = _check_size(input_size, "input_size", layer)
        self.hidden_size = _check_size(hidden_size, "hidden_size", layer)
        self.bias = bool(bias)
        self.gate_hidden_size = num_chunks * self.hidden_size
        g = self.gate_hidden_size
        self.weight_ih = Parameter(np.zeros((g, self.input_size), np.float32))
        self.weight_hh = Parameter(np.zeros((g, self.hidden_size), np.float32))
        make = Parameter if self.bias else Tensor
        self.bias_ih = make(np.zeros((g,), np.float32))
        self.bias_hh = make(np.zeros((g,), np.float32))
        self.reset_parameters()

    def reset_parameters(self):
        """Every Parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) (zero biases stay
        zero without bias)."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check(self, inp):
        _check_input(inp, 2, self.input_size, type(self).__name__, "input")

    def _module_info_string(self):
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


class RNNCell(RNNCellBase):
    r"""An Elman RNN cell with tanh or ReLU non-linearity:
    :math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})` (ReLU when
    ``nonlinearity='relu'``).

    Args:
        input_size: the number of expected features in the input `x`.
        hidden_size: the number of features in the hidden state `h`.
        bias: if ``False``, the layer does not use bias weights `b_ih` and `b_hh`.
            Default: ``True``
        nonlinearity: ``'tanh'`` or ``'relu'``. Default: ``'tanh'``

    Shape:
        - input: `(batch, input_size)`; hx: `(batch, hidden_size)`, zeros if not given.
        - output h': `(batch, hidden_size)`.

    Returns:
        The next hidden state h'.

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.RNNCell(10, 20)
        >>> inp = mge.tensor(np.random.randn(3, 10), dtype=np.float32)
        >>> hx = mge.tensor(np.random.randn(3, 20), dtype=np.float32)
        >>> out = m(inp, hx)
        >>> print(out.numpy().shape)
        (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        self.nonlinearity = _check_nonlinearity(nonlinearity, "RNNCell")
        super().__init__(input_size, hidden_size, bias, num_chunks=1)

    def forward(self, input, hx=None):  # noqa: A002 (MegEngine's argument name)
        self._check(input)
        batch = input.shape[0]
        if hx is None:
            hx = F.zeros((batch, self.hidden_size), dtype=input.dtype, device=input.device)
        _check_state(hx, (batch, self.hidden_size), "RNNCell", "hx")
        gi = F.nn.linear(input, self.weight_ih, self.bias_ih)
        return _rnn_step(gi, hx, self.weight_hh, self.bias_hh, self.nonlinearity)


class LSTMCell(RNNCellBase):
    r"""A long short-term memory (LSTM) cell:

    .. math::

        i = \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}), \quad
        f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
        g = \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}), \quad
        o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
        c' = f * c + i * g, \quad h' = o * \tanh(c')

    Args:
        input_size: the number of expected features in the input `x`.
        hidden_size: the number of features in the hidden state `h`.
        bias: if ``False``, the layer does not use bias weights `b_ih` and `b_hh`.
            Default: ``True``

    Shape:
        - input: `(batch, input_size)`; hx: a pair (h_0, c_0) of `(batch, hidden_size)`, both
          zeros if not given.
        - outputs (h_1, c_1): `(batch, hidden_size)` each.

    Returns:
        The pair (h_1, c_1).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.LSTMCell(10, 20)
        >>> inp = mge.tensor(np.random.randn(3, 10), dtype=np.float32)
        >>> hx = mge.tensor(np.random.randn(3, 20), dtype=np.float32)
        >>> cx = mge.tensor(np.random.randn(3, 20), dtype=np.float32)
        >>> hy, cy = m(inp, (hx, cx))
        >>> print(hy.numpy().shape, cy.numpy().shape)
        (3, 20) (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias, num_chunks=4)

    def forward(self, input, hx=None):  # noqa: A002 (MegEngine's argument name)
        self._check(input)
        shape = (input.shape[0], self.hidden_size)
        if hx is None:
            h = F.zeros(shape, dtype=input.dtype, device=input.device)
            c = F.zeros(shape, dtype=input.dtype, device=input.device)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTMCell: hx must be a pair (h, c), got {type(hx).__name__}")
            h, c = hx
            _check_state(h, shape, "LSTMCell", "h")
            _check_state(c, shape, "LSTMCell", "c")
        gi = F.nn.linear(input, self.weight_ih, self.bias_ih)
        return _lstm_step(gi, h, c, self.weight_hh, self.bias_hh)


class RNNBase(Module):
    """The base of the multi-layer recurrent modules (RNN, LSTM): ``num_layers`` stacked,
    optionally bidirectional layers run over a whole sequence. As MegEngine, forward reads the
    weights of all layers from one flat Parameter, ``_flatten_weights``; the per-layer
    ``cells`` are created, initialised and saved but not used by forward.

    Args:
        input_size: the number of features of the input.
        hidden_size: the number of features of the hidden state.
        num_layers: the number of stacked layers. Default: 1
        bias: whether the cells learn biases. Default: True
        batch_first: if True, inputs and outputs are (batch, seq, feature) instead of
            (seq, batch, feature). Default: False
        dropout: the probability of zeroing each output of every layer but the last, in
            training. Default: 0
        bidirectional: if True, each layer also runs the sequence backwards and the two
            outputs are concatenated. Default: False
        proj_size: (LSTM) the size the hidden state is projected to, smaller than
            hidden_size; 0 for none. Default: 0

    Returns:
        The module; its forward gives the output of the last layer at every step (its last
        dim hidden_size * num_directions) and the final state(s), each
        (num_layers * num_directions, batch, hidden_size).

    Examples:
        >>> rnn = M.LSTM(3, 4, num_layers=2, bidirectional=True)
        >>> isinstance(rnn, M.rnn.RNNBase)
        True
        >>> out, (h, c) = rnn(Tensor(np.zeros((5, 2, 3), "float32")))
        >>> out.shape, h.shape, c.shape
        ((5, 2, 8), (4, 2, 4), (4, 2, 4))
        >>> out, h = M.RNN(3, 4, batch_first=True)(Tensor(np.zeros((2, 5, 3), "float32")))
        >>> out.shape, h.shape
        ((2, 5, 4), (1, 2, 4))
    """

    _num_chunks = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0, bidirectional=False, proj_size=0):
        super().__init__()
        layer = type(self).__name__
        self.input_size = _check_size(input_size, "input_size", layer)
        self.hidden_size = _check_size(hidden_size, "hidden_size", layer)
        self.num_layers = _check_size(num_layers, "num_layers", layer)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(f"{layer}: dropout must be a float in [0, 1] (the probability of "
                             f"an element to be zeroed), got {dropout!r}")
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if self.bidirectional else 1
        self.proj_size = _check_size(proj_size, "proj_size", layer, allow_zero=True)
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{layer}: proj_size ({proj_size}) has to be smaller than "
                             f"hidden_size ({hidden_size})")
        self.cells = [[self.create_cell(i) for _ in range(self.num_directions)]
                      for i in range(self.num_layers)]
        gate = self.cells[0][0].gate_hidden_size
        columns = sum(c.weight_ih.shape[1] + c.weight_hh.shape[1]
                      for cells in self.cells for c in cells)
        if self.bias:
            columns += 2 * self.num_directions * self.num_layers
        self._flatten_weights = Parameter(np.zeros((gate, columns), np.float32))
        self.reset_parameters()

    def reset_parameters(self):
        """Every Parameter (the cells' and `_flatten_weights`) ~ U(-1/sqrt(hidden_size),
        1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def create_cell(self, layer):
        raise NotImplementedError

    def _cell_input_size(self, layer):
        return self.input_size if layer == 0 else self.num_directions * self.hidden_size

    def _cell_weights(self):
        """[(weight_ih, weight_hh, bias_ih, bias_hh)] per cell (layer-major), as slices of the
        flat `_flatten_weights` buffer (biases None without bias)."""
        flat = self._flatten_weights.reshape(-1)
        gate, hs = self._flatten_weights.shape[0], self.hidden_size
        out, pos = [], 0

        def take(*shape):
            nonlocal pos
            size = int(np.prod(shape))
            piece = flat[pos:pos + size].reshape(shape)
            pos += size
            return piece

        for layer in range(self.num_layers):
            for _ in range(self.num_directions):
                w_ih = take(gate, self._cell_input_size(layer))
                w_hh = take(gate, hs)
                b_ih, b_hh = (take(gate), take(gate)) if self.bias else (None, None)
                out.append((w_ih, w_hh, b_ih, b_hh))
        return out

    def _zeros_state(self, inp, batch):
        shape = (self.num_directions * self.num_layers, batch, self.hidden_size)
        return F.zeros(shape, dtype=inp.dtype, device=inp.device)

    def forward(self, input, hx=None):  # noqa: A002 (MegEngine's argument name)
        layer = type(self).__name__
        _check_input(input, 3, self.input_size, layer, "input")
        if self.batch_first:
            batch = input.shape[0]
            input = input.transpose((1, 0, 2))  # (seq_len, batch, input_size)
        else:
            batch = input.shape[1]
        states = self._initial_states(input, batch, hx)
        output, final = self._run(input, states)
        if self.batch_first:
            output = output.transpose((1, 0, 2))
        return output, final

    def _run(self, x, states):
        """x (L, N, in); states: per state kind, a (D * num_layers, N, H) tensor. Returns the
        last layer's output (L, N, D * H) and the final states stacked like the initial ones."""
        weights = self._cell_weights()
        seq_len = x.shape[0]
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                idx = layer * self.num_directions + d
                w_ih, w_hh, b_ih, b_hh = weights[idx]
                gi = F.nn.linear(x, w_ih, b_ih)  # (L, N, G): the input part of every step
                cur = [s[idx] for s in states]
                steps = range(seq_len) if d == 0 else range(seq_len - 1, -1, -1)
                hs = [None] * seq_len
                for t in steps:
                    cur = self._step(gi[t], cur, w_hh, b_hh)
                    hs[t] = cur[0]
                outs.append(F.stack(hs, axis=0))
                for k, s in enumerate(cur):
                    finals[k].append(s)
            x = outs[0] if len(outs) == 1 else F.concat(outs, axis=-1)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = x * 0.0 if self.dropout == 1 else F.nn.dropout(x, self.dropout)
        return x, [F.stack(f, axis=0) for f in finals]

    def _module_info_string(self):
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    r"""A multi-layer Elman RNN with tanh or ReLU non-linearity. For each element of the
    sequence each layer computes :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} +
    b_{hh})` (ReLU when ``nonlinearity='relu'``).

    Args:
        input_size: the number of expected features in the input `x`.
        hidden_size: the number of features in the hidden state `h`.
        num_layers: number of stacked recurrent layers. Default: 1
        nonlinearity: ``'tanh'`` or ``'relu'`` (keyword only). Default: ``'tanh'``
        bias: if ``False``, the layers do not use bias weights. Default: ``True``
        batch_first: input and output are `(batch, seq, feature)` instead of
            `(seq, batch, feature)` (not the hidden state). Default: ``False``
        dropout: in training, a dropout of this probability on the outputs of every layer but
            the last (as documented by MegEngine and done by torch; MegEngine's CPU kernel
            ignores it). Default: 0
        bidirectional: a bidirectional RNN. Default: ``False``

    Shape:
        - input: `(L, N, input_size)` (`(N, L, input_size)` when batch_first); hx:
          `(D * num_layers, N, hidden_size)`, zeros if not given (D = 2 if bidirectional else 1).
        - outputs: output `(L, N, D * hidden_size)` (batch_first: `(N, L, ...)`) and h_n
          `(D * num_layers, N, hidden_size)`.

    Returns:
        The pair (output, h_n).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.RNN(10, 20, 2, batch_first=False, nonlinearity="relu", bias=True,
        ...           bidirectional=True)
        >>> inp = mge.tensor(np.random.randn(6, 30, 10), dtype=np.float32)
        >>> hx = mge.tensor(np.random.randn(4, 30, 20), dtype=np.float32)
        >>> out, hn = m(inp, hx)
        >>> print(out.numpy().shape, hn.numpy().shape)
        (6, 30, 40) (4, 30, 20)
    """

    def __init__(self, *args, **kwargs):
        self.nonlinearity = _check_nonlinearity(kwargs.pop("nonlinearity", "tanh"), "RNN")
        super().__init__(*args, **kwargs)

    def create_cell(self, layer):
        return RNNCell(self._cell_input_size(layer), self.hidden_size, self.bias,
                       self.nonlinearity)

    def init_hidden(self, batch_size):
        """Zeros of shape (D * num_layers, batch_size, hidden_size)."""
        return self._zeros_state(self._flatten_weights, batch_size)

    def _initial_states(self, inp, batch, hx):
        if hx is None:
            return [self._zeros_state(inp, batch)]
        _check_state(hx, (self.num_directions * self.num_layers, batch, self.hidden_size),
                     "RNN", "hx")
        return [hx]

    def get_output_from_hidden(self, hx):
        """The hidden state itself (an RNN has no cell state)."""
        return hx

    def apply_op(self, input, hx):  # noqa: A002 (MegEngine's argument name)
        """Run the layers on a (seq_len, batch, input_size) input from the initial state hx;
        returns (output, h_n) (forward without the batch_first transposes and checks)."""
        return self._run(input, [hx])

    def _step(self, gi, cur, w_hh, b_hh):
        return [_rnn_step(gi, cur[0], w_hh, b_hh, self.nonlinearity)]

    def _run(self, x, states):
        output, (h,) = super()._run(x, states)
        return output, h


class LSTM(RNNBase):
    r"""A multi-layer long short-term memory (LSTM) network; every layer runs
    :class:`LSTMCell`'s equations over the sequence, the input of a layer being the hidden
    states of the layer below (both directions concatenated when bidirectional).

    Args:
        input_size: the number of expected features in the input `x`.
        hidden_size: the number of features in the hidden state `h`.
        num_layers: number of stacked LSTM layers. Default: 1
        bias: if ``False``, the layers do not use bias weights. Default: ``True``
        batch_first: input and output are `(batch, seq, feature)` instead of
            `(seq, batch, feature)` (not the states). Default: ``False``
        dropout: in training, a dropout of this probability on the outputs of every layer but
            the last (as documented by MegEngine and done by torch; MegEngine's CPU kernel
            ignores it). Default: 0
        bidirectional: a bidirectional LSTM. Default: ``False``
        proj_size: checked (0 <= proj_size < hidden_size) and kept, but has no effect: as in
            MegEngine 1.13, whose LSTM has no projection weights, the states keep hidden_size
            features. Default: 0

    Shape:
        - input: `(L, N, input_size)` (`(N, L, input_size)` when batch_first); hx: a pair
          (h_0, c_0) of `(D * num_layers, N, hidden_size)`, zeros if not given.
        - outputs: output `(L, N, D * hidden_size)` (batch_first: `(N, L, ...)`) and
          (h_n, c_n), each `(D * num_layers, N, hidden_size)`.

    Returns:
        The pair (output, (h_n, c_n)).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.LSTM(10, 20, 2, batch_first=False, bidirectional=True, bias=True)
        >>> inp = mge.tensor(np.random.randn(6, 30, 10), dtype=np.float32)
        >>> hx = mge.tensor(np.random.randn(4, 30, 20), dtype=np.float32)
        >>> cx = mge.tensor(np.random.randn(4, 30, 20), dtype=np.float32)
        >>> out, (hn, cn) = m(inp, (hx, cx))
        >>> print(out.numpy().shape, hn.numpy().shape, cn.numpy().shape)
        (6, 30, 40) (4, 30, 20) (4, 30, 20)
    """

    def create_cell(self, layer):
        return LSTMCell(self._cell_input_size(layer), self.hidden_size, self.bias)

    def init_hidden(self, batch_size):
        """A pair of zeros (h, c), each (D * num_layers, batch_size, hidden_size)."""
        return (self._zeros_state(self._flatten_weights, batch_size),
                self._zeros_state(self._flatten_weights, batch_size))

    def _initial_states(self, inp, batch, hx):
        if hx is None:
            return [self._zeros_state(inp, batch), self._zeros_state(inp, batch)]
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTM: hx must be a pair (h_0, c_0), got {type(hx).__name__}")
        shape = (self.num_directions * self.num_layers, batch, self.hidden_size)
        _check_state(hx[0], shape, "LSTM", "h_0")
        _check_state(hx[1], shape, "LSTM", "c_0")
        return list(hx)

    def get_output_from_hidden(self, hx):
        """h of the state pair (h, c)."""
        return hx[0]

    def apply_op(self, input, hx):  # noqa: A002 (MegEngine's argument name)
        """Run the layers on a (seq_len, batch, input_size) input from the initial states
        hx = (h_0, c_0); returns (output, (h_n, c_n)) (forward without the batch_first
        transposes and checks)."""
        return self._run(input, list(hx))

    def _step(self, gi, cur, w_hh, b_hh):
        return list(_lstm_step(gi, cur[0], cur[1], w_hh, b_hh))

    def _run(self, x, states):
        output, (h, c) = super()._run(x, states)
        return output, (h, c)
