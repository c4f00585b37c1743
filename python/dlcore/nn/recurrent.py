"""Recurrent layers: RNN (tanh or ReLU), LSTM and GRU, single or stacked, one- or bidirectional,
time-major (T, N, features) or batch_first, with PyTorch's parameter names and gate order.

The input's contribution to every gate at every step is independent of the recurrence, so it is
one GEMM over all T x N rows per layer and direction; only h_{t-1} W_hh^T stays inside the loop
over time, one GEMM per step. The RNN's activation is one pointwise kernel; the LSTM and GRU gates
are one fused kernel per step and direction (F.lstm_cell, F.gru_cell), forward and backward:

    RNN   h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
    LSTM  i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)      (sigmoid, sigmoid, tanh, sigmoid)
          c = f * c + i * g;  h = o * tanh(c)
    GRU   r, z, n_x = split(x W_ih^T + b_ih);  r_h, z_h, n_h = split(h W_hh^T + b_hh)
          r = sigmoid(r + r_h);  z = sigmoid(z + z_h);  n = tanh(n_x + r * n_h);  h = (1 - z) n + z h
"""
import math

from .. import functional as F
from ..tensor import cat, empty, stack, zeros
from . import init
from .module import Module, Parameter

__all__ = ["RNN", "LSTM", "GRU"]


class _Recurrent(Module):
    gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype="float32", device=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = F._number(input_size, "input_size", name, 1, integer=True)
        self.hidden_size = F._number(hidden_size, "hidden_size", name, 1, integer=True)
        self.num_layers = F._number(num_layers, "num_layers", name, 1, integer=True)
        self.bias, self.batch_first, self.dropout = bias, batch_first, F._number(dropout, "dropout", name, 0, 1)
        self.directions = 2 if bidirectional else 1
        G, H = self.gates * self.hidden_size, self.hidden_size
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else H * self.directions
            for d in range(self.directions):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                setattr(self, "weight_ih" + sfx, Parameter(empty(G, in_size, dtype=dtype, device=device)))
                setattr(self, "weight_hh" + sfx, Parameter(empty(G, H, dtype=dtype, device=device)))
                if bias:
                    setattr(self, "bias_ih" + sfx, Parameter(empty(G, dtype=dtype, device=device)))
                    setattr(self, "bias_hh" + sfx, Parameter(empty(G, dtype=dtype, device=device)))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)  # PyTorch's U(-1/sqrt(H), 1/sqrt(H)) for all
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = lambda n: self._parameters.get(n + sfx)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _initial(self, x, hx, name):
        N = x.shape[1]
        shape = (self.num_layers * self.directions, N, self.hidden_size)
        if hx is None:
            return zeros(*shape, dtype=x.dtype, device=x.device)
        if tuple(hx.shape) != shape:
            raise ValueError(f"[{type(self).__name__}] expected {name} of shape {shape}, got {tuple(hx.shape)}")
        return hx

    def forward(self, x, hx=None):
        """x: (T, N, input_size), or (N, T, input_size) with batch_first. Returns the last layer's
        outputs (T, N, directions * hidden_size) (batch_first: (N, T, ...)) and the final state
        (num_layers * directions, N, hidden_size) -- for LSTM the pair (h_n, c_n)."""
        name = type(self).__name__
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"[{name}] expected input of shape ({'N, T' if self.batch_first else 'T, N'}, "
                             f"{self.input_size}), got {tuple(x.shape)}")
        if self.batch_first:
            x = x.transpose(0, 1)
        state = self._initial_state(x, hx)
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.directions):
                k = layer * self.directions + d
                seq, last = self._run(x, self._weights(layer, d), [s[k] for s in state], reverse=bool(d))
                outs.append(seq)
                finals.append(last)
            x = outs[0] if self.directions == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout)
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, self._final_state(finals)

    def _initial_state(self, x, hx):
        return [self._initial(x, hx, "h_0")]

    def _final_state(self, finals):
        return stack([f[0] for f in finals], 0)

    def _run(self, x, weights, state, reverse):
        """One layer in one direction: the input projection of all steps in one GEMM, then the loop."""
        w_ih, w_hh, b_ih, b_hh = weights
        T, N = x.shape[0], x.shape[1]
        projected = F.linear(x.reshape(T * N, x.shape[2]), w_ih, b_ih).reshape(T, N, w_ih.shape[0])
        # One node for all the steps' slices: its backward assembles the gradient of `projected`
        # once, where indexing each step would build and add T zero-padded copies of it.
        steps = projected.unbind(0)
        outputs = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            state = self._cell(steps[t], state, w_hh, b_hh)
            outputs[t] = state[0]
        return stack(outputs, 0), state

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, batch_first={self.batch_first}"
                + (", bidirectional=True" if self.directions == 2 else ""))


class RNN(_Recurrent):
    """The Elman network: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (nonlinearity 'tanh' or 'relu')."""
    gates = 1

    def __init__(self, *args, nonlinearity="tanh", **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"[RNN] nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(*args, **kwargs)
        self.nonlinearity = nonlinearity

    def _cell(self, xp, state, w_hh, b_hh):
        pre = F.linear(state[0], w_hh, b_hh) + xp
        return [F.tanh(pre) if self.nonlinearity == "tanh" else F.relu(pre)]


class LSTM(_Recurrent):
    """Long short-term memory (input, forget, cell and output gates, in PyTorch's order)."""
    gates = 4

    def _initial_state(self, x, hx):
        h0, c0 = (None, None) if hx is None else hx
        return [self._initial(x, h0, "h_0"), self._initial(x, c0, "c_0")]

    def _final_state(self, finals):
        return stack([f[0] for f in finals], 0), stack([f[1] for f in finals], 0)

    def _cell(self, xp, state, w_hh, b_hh):
        h, c = state
        return list(F.lstm_cell(F.linear(h, w_hh, b_hh) + xp, c))


class GRU(_Recurrent):
    """Gated recurrent unit (reset, update and new gates, in PyTorch's order)."""
    gates = 3

    def _cell(self, xp, state, w_hh, b_hh):
        h = state[0]
        return [F.gru_cell(xp, F.linear(h, w_hh, b_hh), h)]
