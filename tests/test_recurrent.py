"""The fused LSTM and GRU cells (forward, backward) on every backend, against NumPy float64
references of the cell equations, over awkward sizes (N = 0, 1, primes; H = 1, 3, 17, 33: not
multiples of any SIMD width), extreme pre-activations, views and bad inputs.

Tolerances are first-order error bounds in units of the dtype's eps, times checks.K: the inputs
are exact, each activation is within a few ulp (cpu/math.h, or the device's libm), each sum and
product adds one rounding of the magnitudes it combines, and an error in an activation's
argument reaches its value scaled by the activation's derivative. tanh' is formed as
(1 - t)(1 + t), which is exact to eps absolutely (not relatively) where t saturates.
"""
import numpy as np
import pytest

import backends
import dlcore
from checks import K, assert_close, eps, tiny, wrap
from dlcore import _C

T = backends.tensor
A = backends.array
FLOATS = (np.float32, np.float64)
SIZES = [(1, 1), (1, 17), (2, 3), (7, 33), (13, 5), (0, 4)]


# ---- float64 references, stable in both tails ----------------------------------------------

def sig_pair(x):
    """sigmoid(x), 1 - sigmoid(x) and the derivative, from exp(-|x|)."""
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    s, t = np.where(x >= 0, r, e * r), np.where(x >= 0, e * r, r)
    return s, t, e * r * r


def dtanh(x):
    e = np.exp(-2 * np.abs(x))
    return 4 * e / (1 + e) ** 2


def lstm_ref(gates, cp):
    H = cp.shape[1]
    gi, gf, gg, go = (gates[:, k * H:(k + 1) * H] for k in range(4))
    i, f, o = sig_pair(gi)[0], sig_pair(gf)[0], sig_pair(go)[0]
    g = np.tanh(gg)
    c = f * cp + i * g
    return o * np.tanh(c), c


def lstm_backward_ref(dh, dcn, gates, cp, c):
    H = cp.shape[1]
    gi, gf, gg, go = (gates[:, k * H:(k + 1) * H] for k in range(4))
    (i, _, di_), (f, _, df_), (o, _, do_) = sig_pair(gi), sig_pair(gf), sig_pair(go)
    g, tc = np.tanh(gg), np.tanh(c)
    dc = dcn + dh * o * dtanh(c)
    dgates = np.concatenate([dc * g * di_, dc * cp * df_, dc * i * dtanh(gg), dh * tc * do_], 1)
    return dgates, dc * f


def gru_parts(xg, hg, hp):
    H = hp.shape[1]
    x = [xg[:, k * H:(k + 1) * H] for k in range(3)]
    h = [hg[:, k * H:(k + 1) * H] for k in range(3)]
    r, tr, dr = sig_pair(x[0] + h[0])
    z, tz, dz = sig_pair(x[1] + h[1])
    an = x[2] + r * h[2]
    return x, h, (r, tr, dr), (z, tz, dz), an, np.tanh(an)


def gru_ref(xg, hg, hp):
    _, _, _, (z, tz, _), _, n = gru_parts(xg, hg, hp)
    return tz * n + z * hp


def gru_backward_ref(dh, xg, hg, hp):
    _, h, (r, _, dsr), (z, tz, dsz), an, n = gru_parts(xg, hg, hp)
    dxn = dh * tz * dtanh(an)
    dr = dxn * h[2] * dsr
    dz = dh * (hp - n) * dsz
    return (np.concatenate([dr, dz, dxn], 1), np.concatenate([dr, dz, dxn * r], 1), dh * z)


# ---- error bounds (units of eps; see the module docstring) -------------------------------------

def lstm_bounds(gates, cp, dh, dcn):
    H = cp.shape[1]
    gi, gf, gg, go = (gates[:, k * H:(k + 1) * H] for k in range(4))
    (i, ti, _), (f, tf, _), (o, to, _) = sig_pair(gi), sig_pair(gf), sig_pair(go)
    g = np.abs(np.tanh(gg))
    terms = np.abs(f * cp) + i * g  # the sum that makes c
    h_b = np.abs(o * np.tanh(f * cp + i * np.tanh(gg))) + o * terms
    dc = np.abs(dcn) + np.abs(dh) * o  # bounds |dc|; tanh'(c) is exact to eps absolutely
    grads = np.concatenate([dc * g * i * ti, dc * np.abs(cp) * f * tf, dc * i, np.abs(dh) * o * to], 1)
    return terms, h_b, 2 * grads, 2 * dc * f


def gru_bounds(xg, hg, hp, dh):
    x, h, (r, tr, dsr), (z, tz, dsz), an, n = gru_parts(xg, hg, hp)
    d_r = r + dsr * (np.abs(x[0]) + np.abs(h[0]))  # the activation's ulps + its argument's rounding
    d_z = z + tz + dsz * (np.abs(x[1]) + np.abs(h[1]))
    d_an = np.abs(x[2]) + np.abs(r * h[2]) + np.abs(h[2]) * d_r
    d_n = np.abs(n) + dtanh(an) * d_an
    h_b = np.abs(tz * n) + np.abs(z * hp) + tz * d_n + (np.abs(n) + np.abs(hp)) * d_z
    adh = np.abs(dh)
    d_dxn = adh * (d_z + 2 * d_n + 4)
    dxn = adh * tz * dtanh(an)
    d_dr = np.abs(h[2]) * (d_dxn * r * tr + dxn * d_r)
    d_dz = adh * (np.abs(hp - n) * d_z + np.abs(hp) + np.abs(n) + d_n * z * tz)
    d_dhn = dxn * d_r + r * d_dxn
    return h_b, (np.concatenate([d_dr, d_dz, d_dxn], 1), np.concatenate([d_dr, d_dz, d_dhn], 1), adh * (d_z + z))


def tol(bound, dtype):
    return K * eps(dtype) * bound + K * tiny(dtype)


def pre_activations(rng, shape, dtype, extreme=False):
    x = rng.standard_normal(shape) * 3
    if extreme:
        x = np.where(rng.random(shape) < 0.7, rng.choice([-1e4, -80.0, 80.0, 1e4], shape), x)
    return x.astype(dtype)


# ---- LSTM -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("N,H", SIZES, ids=str)
@pytest.mark.parametrize("extreme", [False, True], ids=["normal", "extreme"])
def test_lstm_cell(backend, rng, dtype, N, H, extreme):
    gates = pre_activations(rng, (N, 4 * H), dtype, extreme)
    cp = (rng.standard_normal((N, H)) * 2).astype(dtype)
    dh, dcn = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    h, c = _C.lstm_cell(T(gates)._t, T(cp)._t)
    h, c = A(wrap(h)), A(wrap(c))
    assert h.dtype == c.dtype == dtype and h.shape == c.shape == (N, H)
    g64, cp64 = gates.astype(np.float64), cp.astype(np.float64)
    h_ref, c_ref = lstm_ref(g64, cp64)
    c_b, h_b, grads_b, dcp_b = lstm_bounds(g64, cp64, dh.astype(np.float64), dcn.astype(np.float64))
    assert_close(c, c_ref, tol(c_b, dtype), "c")
    assert_close(h, h_ref, tol(h_b, dtype), "h")
    assert np.all(np.isfinite(h)) and np.all(np.isfinite(c))

    c_in = c_ref.astype(dtype)  # the backward reads the forward's c: give it the exact one
    for grad_c in (dcn, None):
        dg, dcp = _C.lstm_cell_backward(T(dh)._t, None if grad_c is None else T(grad_c)._t, T(gates)._t,
                                        T(cp)._t, T(c_in)._t)
        zero = np.zeros_like(dcn) if grad_c is None else grad_c
        dg_ref, dcp_ref = lstm_backward_ref(dh.astype(np.float64), zero.astype(np.float64), g64, cp64,
                                            c_in.astype(np.float64))
        bounds = lstm_bounds(g64, cp64, dh.astype(np.float64), zero.astype(np.float64))
        dg, dcp = A(wrap(dg)), A(wrap(dcp))
        assert dg.dtype == dtype and dg.shape == (N, 4 * H) and dcp.shape == (N, H)
        assert_close(dg, dg_ref, tol(bounds[2], dtype), f"grad_gates (grad_c {'None' if grad_c is None else 'given'})")
        assert_close(dcp, dcp_ref, tol(bounds[3], dtype), "grad_c_prev")
        assert np.all(np.isfinite(dg)) and np.all(np.isfinite(dcp))


# ---- GRU ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("N,H", SIZES, ids=str)
@pytest.mark.parametrize("extreme", [False, True], ids=["normal", "extreme"])
def test_gru_cell(backend, rng, dtype, N, H, extreme):
    xg, hg = (pre_activations(rng, (N, 3 * H), dtype, extreme) for _ in range(2))
    hp = np.tanh(rng.standard_normal((N, H)) * 2).astype(dtype)
    dh = rng.standard_normal((N, H)).astype(dtype)
    x64, hg64, hp64, dh64 = (a.astype(np.float64) for a in (xg, hg, hp, dh))
    h_b, grad_b = gru_bounds(x64, hg64, hp64, dh64)
    h = A(wrap(_C.gru_cell(T(xg)._t, T(hg)._t, T(hp)._t)))
    assert h.dtype == dtype and h.shape == (N, H)
    assert_close(h, gru_ref(x64, hg64, hp64), tol(h_b, dtype), "h")
    assert np.all(np.isfinite(h))
    got = [A(wrap(g)) for g in _C.gru_cell_backward(T(dh)._t, T(xg)._t, T(hg)._t, T(hp)._t)]
    for name, g, ref, b in zip(("grad_x_gates", "grad_h_gates", "grad_h_prev"), got,
                               gru_backward_ref(dh64, x64, hg64, hp64), grad_b):
        assert g.dtype == dtype
        assert_close(g, ref, tol(b, dtype), name)
        assert np.all(np.isfinite(g)), name


# ---- threads, views ---------------------------------------------------------------------------

def test_thread_split_inside_rows(threads, rng):
    """37 x 300 units: two threads split the flat unit range in the middle of a row."""
    gates, cp = rng.standard_normal((37, 1200)), rng.standard_normal((37, 300))
    h, c = (A(wrap(t)) for t in _C.lstm_cell(T(gates)._t, T(cp)._t))
    h_ref, c_ref = lstm_ref(gates, cp)
    np.testing.assert_allclose(h, h_ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c, c_ref, rtol=1e-13, atol=1e-15)
    xg, hg = rng.standard_normal((37, 900)), rng.standard_normal((37, 900))
    h = A(wrap(_C.gru_cell(T(xg)._t, T(hg)._t, T(cp)._t)))
    np.testing.assert_allclose(h, gru_ref(xg, hg, cp), rtol=1e-13, atol=1e-15)


def test_views_are_compacted(backend, rng):
    big = rng.standard_normal((5, 2 * 12)).astype(np.float32)
    gates_view, gates = T(big)[:, ::2], np.ascontiguousarray(big[:, ::2])
    cp = rng.standard_normal((3, 5)).astype(np.float32)
    cp_view = T(cp).T  # (5, 3), transposed
    want = [A(wrap(t)) for t in _C.lstm_cell(T(gates)._t, T(np.ascontiguousarray(cp.T))._t)]
    got = [A(wrap(t)) for t in _C.lstm_cell(gates_view._t, cp_view._t)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    xg = rng.standard_normal((9, 5)).astype(np.float32)  # xg.T: (5, 9) gates of H = 3
    hg, hp = rng.standard_normal((5, 9)).astype(np.float32), rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(A(wrap(_C.gru_cell(T(xg).T._t, T(hg)._t, T(hp)._t))),
                                  A(wrap(_C.gru_cell(T(np.ascontiguousarray(xg.T))._t, T(hg)._t, T(hp)._t))))


# ---- bad input --------------------------------------------------------------------------------

def test_errors(backend):
    f32 = lambda *s: T(np.zeros(s, np.float32))  # noqa: E731
    with pytest.raises(ValueError, match=r"\[lstm_cell\] expected gates of shape \(N, 4 \* hidden_size\), "
                                         r"got \(8, 15\)"):
        _C.lstm_cell(f32(8, 15)._t, f32(8, 4)._t)
    with pytest.raises(ValueError, match=r"\[lstm_cell\] expected gates of shape .*, got \(64,\)"):
        _C.lstm_cell(f32(64)._t, f32(8, 16)._t)
    with pytest.raises(ValueError, match=r"\[lstm_cell\] expected c_prev of shape \(8, 16\), got \(8, 17\)"):
        _C.lstm_cell(f32(8, 64)._t, f32(8, 17)._t)
    with pytest.raises(TypeError, match=r"\[lstm_cell\] expected c_prev of dtype float32 \(the gates'\), "
                                        r"got float64"):
        _C.lstm_cell(f32(8, 64)._t, T(np.zeros((8, 16)))._t)
    with pytest.raises(TypeError, match=r"\[lstm_cell\] expected gates of a floating dtype"):
        _C.lstm_cell(T(np.zeros((8, 64), np.int64))._t, f32(8, 16)._t)
    with pytest.raises(ValueError, match=r"\[lstm_cell_backward\] expected grad_c of shape \(2, 3\), got \(3, 2\)"):
        _C.lstm_cell_backward(f32(2, 3)._t, f32(3, 2)._t, f32(2, 12)._t, f32(2, 3)._t, f32(2, 3)._t)
    with pytest.raises(ValueError, match=r"\[lstm_cell_backward\] expected c of shape \(2, 3\), got \(2, 4\)"):
        _C.lstm_cell_backward(f32(2, 3)._t, None, f32(2, 12)._t, f32(2, 3)._t, f32(2, 4)._t)
    with pytest.raises(ValueError, match=r"\[gru_cell\] expected x_gates of shape \(N, 3 \* hidden_size\), "
                                         r"got \(4, 10\)"):
        _C.gru_cell(f32(4, 10)._t, f32(4, 10)._t, f32(4, 3)._t)
    with pytest.raises(ValueError, match=r"\[gru_cell\] expected h_gates of shape \(4, 9\), got \(4, 6\)"):
        _C.gru_cell(f32(4, 9)._t, f32(4, 6)._t, f32(4, 3)._t)
    with pytest.raises(ValueError, match=r"\[gru_cell\] expected h_prev of shape \(4, 3\), got \(3, 4\)"):
        _C.gru_cell(f32(4, 9)._t, f32(4, 9)._t, f32(3, 4)._t)
    with pytest.raises(ValueError, match=r"\[gru_cell_backward\] expected grad_h of shape \(4, 3\), got \(4, 9\)"):
        _C.gru_cell_backward(f32(4, 9)._t, f32(4, 9)._t, f32(4, 9)._t, f32(4, 3)._t)


def test_device_mismatch():
    assert dlcore.cuda.is_available()  # a GPU, or the emulator every build has
    g = dlcore.zeros(2, 8)
    with pytest.raises(ValueError, match=r"\[lstm_cell\] expected tensors on one device, got cpu and cuda"):
        _C.lstm_cell(g._t, dlcore.zeros(2, 2, device="cuda")._t)
    with pytest.raises(ValueError, match=r"\[gru_cell\] expected tensors on one device"):
        _C.gru_cell(g[:, :6]._t, g[:, :6]._t, dlcore.zeros(2, 2, device="cuda")._t)
