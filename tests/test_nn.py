"""dlcore.nn: Module bookkeeping (parameters, buffers, children, modes, devices, state dicts,
summary), the layers against NumPy references and float64 gradchecks, the recurrent layers
against a NumPy reference (and PyTorch when installed), initialisation statistics, and a small
network trained end to end by plain gradient descent."""
from collections import OrderedDict

import numpy as np
import pytest

import dlcore
import dlcore.functional as F
from dlcore import nn
from dlcore.autograd import gradcheck

DEVICES = ["cpu"] + (["cuda"] if dlcore.cuda.is_available() else [])


def np_(t):
    return t.detach().cpu().numpy()


def with_params(module, values):
    """A function of (input, *parameters) running module with its parameters replaced by the given
    tensors (in named_parameters order), for gradcheck with respect to the parameters."""
    names = [n for n, _ in module.named_parameters()]

    def run(*args):
        for name, v in zip(names, args[len(args) - len(names):]):
            owner, _, leaf = name.rpartition(".")
            mod = module
            for part in owner.split(".") if owner else ():
                mod = mod._modules[part]
            mod._parameters[leaf] = v
        return module(*args[:len(args) - len(names)])
    return run, [dlcore.tensor(p, requires_grad=True) for p in values]


# ---- Module bookkeeping ---------------------------------------------------------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(8, 3)
        self.scale = nn.Parameter(dlcore.ones(1))

    def forward(self, x):
        return self.fc2(self.drop(F.relu(self.bn(self.fc1(x))))) * self.scale


def test_parameters_buffers_children_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_buffers()] == ["bn.running_mean", "bn.running_var"]
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "drop", "fc2"]
    assert all(p.requires_grad and p.is_leaf for p in net.parameters())
    assert sum(p.numel() for p in net.parameters()) == 4 * 8 + 8 + 8 + 8 + 8 * 3 + 3 + 1


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(3, 3)
    net = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(net.parameters())) == 2


def test_attribute_rules():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign a Tensor to parameter 'scale'"):
        net.scale = dlcore.ones(1)
    net.scale = None
    assert "scale" not in dict(net.named_parameters())

    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(dlcore.ones(1))
    with pytest.raises(AttributeError, match="super"):
        Bad()
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        Net().nope


def test_train_eval_propagates_and_changes_behaviour():
    net = Net()
    x = dlcore.randn(16, 4)
    net.eval()
    assert not net.drop.training and not net.bn.training
    np.testing.assert_array_equal(np_(net(x)), np_(net(x)))  # no dropout, running statistics
    net.train()
    assert net.drop.training
    before = np_(net.bn.running_mean).copy()
    net(x)
    assert not np.array_equal(before, np_(net.bn.running_mean))


def test_zero_grad_and_backward_reach_every_parameter():
    net = Net()
    net(dlcore.randn(5, 4)).sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    state = a.state_dict()
    assert list(state) == ["scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias",
                           "bn.running_mean", "bn.running_var"]
    b.load_state_dict({k: np_(v) for k, v in state.items()})  # NumPy arrays, e.g. from an .npz file
    x = dlcore.randn(3, 4)
    a.eval(), b.eval()
    np.testing.assert_array_equal(np_(a(x)), np_(b(x)))
    with pytest.raises(KeyError, match="missing keys"):
        b.load_state_dict({"scale": state["scale"]})
    bad = dict(state)
    bad["fc1.weight"] = dlcore.zeros(2, 2)
    with pytest.raises(ValueError, match=r"fc1.weight: expected shape \(8, 4\), got \(2, 2\)"):
        b.load_state_dict(bad)


@pytest.mark.parametrize("device", DEVICES)
def test_to_moves_parameters_in_place(device):
    net = Net()
    params = list(net.parameters())
    net.to(device).double()
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]  # optimizers keep their references
    assert all(p.device.type == device and p.dtype == dlcore.float64 for p in net.parameters())
    assert all(b.device.type == device for b in net.buffers())
    out = net(dlcore.randn(2, 4, dtype="float64", device=device))
    assert out.device.type == device and out.dtype == dlcore.float64


def test_summary_table_like_keras():
    dlcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 100, activation="relu"), nn.Dropout(0.2), nn.Linear(100, 10))
    text = model.summary((784,), print_fn=None)
    assert "0 (Linear)" in text and "(None, 100)" in text and "78,500" in text
    assert "(None, 10)" in text and "1,010" in text
    assert "Total params: 79,510" in text and "Trainable params: 79,510" in text
    assert model.training  # restored after the shape probe
    assert "Output Shape" in model.summary(print_fn=None)


def test_containers():
    seq = nn.Sequential(OrderedDict(first=nn.Linear(2, 3), act=nn.Tanh()))
    assert isinstance(seq[0], nn.Linear) and len(seq) == 2 and isinstance(seq[1:], nn.Sequential)
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    holder = nn.Module()
    holder.layers, holder.heads = ml, md
    assert len(list(holder.parameters())) == 8
    assert "a" in md and md["a"] is md.a


# ---- layers ----------------------------------------------------------------------------------

def test_linear_matches_numpy_and_torch_default_init_bounds():
    dlcore.manual_seed(1)
    layer = nn.Linear(50, 20)
    w, b = np_(layer.weight), np_(layer.bias)
    bound = 1 / np.sqrt(50)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound and w.std() > bound / 2
    x = np.random.default_rng(0).standard_normal((7, 50)).astype(np.float32)
    np.testing.assert_allclose(np_(layer(dlcore.tensor(x))), x @ w.T + b, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"\[Linear\] expected input of shape \(\.\.\., 50\), got \(7, 3\)"):
        layer(dlcore.zeros(7, 3))


def test_dense_is_keras_named_linear():
    layer = nn.Dense(3, 4, activation="relu")
    assert np_(layer(dlcore.randn(5, 3))).min() >= 0


@pytest.mark.parametrize("device", DEVICES)
def test_batchnorm_running_statistics(device):
    bn = nn.BatchNorm1d(3, momentum=0.5).to(device)
    x = np.random.default_rng(2).standard_normal((10, 3)) * [1, 2, 3] + [4, 5, 6]
    y = np_(bn(dlcore.tensor(x, dtype="float32", device=device)))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(np_(bn.running_mean), 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(np_(bn.running_var), 0.5 + 0.5 * x.var(0, ddof=1), rtol=1e-5)
    bn.eval()
    y = np_(bn(dlcore.tensor(x, dtype="float32", device=device)))
    ref = (x - np_(bn.running_mean)) / np.sqrt(np_(bn.running_var) + 1e-5)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"\[BatchNorm1d\] expected 2-d or 3-d input with 3 channels"):
        bn(dlcore.zeros(4, 5, device=device))


def test_dropout_modes():
    drop = nn.Dropout(0.25)
    x = dlcore.ones(1000)
    y = np_(drop(x))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)} and 0.15 < (y == 0).mean() < 0.35
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match=r"\[Dropout\] expected p in \[0, 1\]"):
        nn.Dropout(1.5)


def test_activation_modules_match_functional():
    x = dlcore.randn(4, 6)
    pairs = [(nn.ReLU(), F.relu(x)), (nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2)), (nn.ELU(alpha=0.5), F.elu(x, 0.5)),
             (nn.SELU(), F.selu(x)), (nn.SiLU(), F.silu(x)), (nn.GELU("tanh"), F.gelu(x, "tanh")),
             (nn.Sigmoid(), F.sigmoid(x)), (nn.Tanh(), F.tanh(x)), (nn.Softplus(beta=2), F.softplus(x, 2)),
             (nn.Hardtanh(-2, 2), F.hardtanh(x, -2, 2)), (nn.Hardsigmoid(), F.hardsigmoid(x)),
             (nn.Heaviside(), F.heaviside(x)), (nn.Softmax(dim=1), F.softmax(x, 1)),
             (nn.LogSoftmax(1), F.log_softmax(x, 1)), (nn.Swish(2.0), F.swish(x, 2.0))]
    for module, ref in pairs:
        np.testing.assert_array_equal(np_(module(x)), np_(ref), err_msg=repr(module))
    with pytest.raises(TypeError, match=r"\[ReLU\] takes at most 0 arguments"):
        nn.ReLU(3)


def test_learned_activation_parameters_get_gradients():
    prelu, swish = nn.PReLU(3), nn.Swish(learnable=True, num_parameters=3)
    x = dlcore.randn(5, 3, 2)
    (prelu(x) + swish(x)).sum().backward()
    assert prelu.weight.grad.shape == (3,) and swish.beta.grad.shape == (3,)


def test_residual_and_maxout():
    dlcore.manual_seed(3)
    body = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))
    res = nn.Residual(body, activation=nn.ReLU())
    x = dlcore.randn(3, 4)
    np.testing.assert_allclose(np_(res(x)), np.maximum(np_(body(x)) + np_(x), 0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"\[Residual\]"):
        nn.Residual(nn.Linear(4, 2))(x)
    mo = nn.Maxout(4, 3, pieces=5)
    lin = np_(mo.linear(x)).reshape(3, 3, 5)
    np.testing.assert_array_equal(np_(mo(x)), lin.max(-1))


@pytest.mark.parametrize("device", DEVICES)
def test_layer_gradchecks(device):
    dlcore.manual_seed(4)
    layers = [nn.Linear(3, 2, activation="tanh"), nn.Conv2d(2, 3, 3, padding=1), nn.Conv1d(2, 2, 2, stride=2),
              nn.BatchNorm2d(2), nn.LayerNorm(3), nn.PReLU(), nn.Maxout(3, 2, pieces=3)]
    inputs = [(4, 3), (2, 2, 4, 4), (2, 2, 6), (3, 2, 2, 2), (2, 3), (5,), (2, 3)]
    for layer, shape in zip(layers, inputs):
        layer.to(device).double()
        x = dlcore.randn(*shape, dtype="float64", device=device, requires_grad=True)
        run, params = with_params(layer, list(layer.parameters()))
        assert gradcheck(run, [x] + params), repr(layer)


# ---- recurrent layers -----------------------------------------------------------------------

def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def numpy_recurrent(kind, module, x, h0=None):
    """The reference: the cell equations of PyTorch's documentation, in NumPy float64."""
    P = {n: np_(p).astype(np.float64) for n, p in module.named_parameters()}
    H, D, L = module.hidden_size, module.directions, module.num_layers
    if module.batch_first:
        x = x.transpose(1, 0, 2)
    T, N = x.shape[:2]
    finals_h, finals_c = [], []
    for layer in range(L):
        outs = []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            wi, wh = P["weight_ih" + sfx], P["weight_hh" + sfx]
            bi, bh = P.get("bias_ih" + sfx, 0), P.get("bias_hh" + sfx, 0)
            h = np.zeros((N, H)) if h0 is None else h0[layer * D + d]
            c = np.zeros((N, H))
            seq = np.zeros((T, N, H))
            for t in (range(T - 1, -1, -1) if d else range(T)):
                gi, gh = x[t] @ wi.T + bi, h @ wh.T + bh
                if kind == "RNN":
                    h = np.tanh(gi + gh)
                elif kind == "LSTM":
                    i, f, g, o = np.split(gi + gh, 4, 1)
                    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                    h = _sigmoid(o) * np.tanh(c)
                else:
                    r = _sigmoid(gi[:, :H] + gh[:, :H])
                    z = _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
                    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
                    h = (1 - z) * n + z * h
                seq[t] = h
            outs.append(seq)
            finals_h.append(h)
            finals_c.append(c)
        x = np.concatenate(outs, 2)
    if module.batch_first:
        x = x.transpose(1, 0, 2)
    return x, np.stack(finals_h), np.stack(finals_c)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidirectional,batch_first", [(1, False, False), (2, True, True), (2, False, True)])
def test_recurrent_matches_numpy(kind, layers, bidirectional, batch_first):
    dlcore.manual_seed(5)
    m = getattr(nn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first).double()
    x = np.random.default_rng(6).standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    out, state = m(dlcore.tensor(x))
    ref, h, c = numpy_recurrent(kind, m, x)
    np.testing.assert_allclose(np_(out), ref, rtol=1e-10, atol=1e-12)
    if kind == "LSTM":
        np.testing.assert_allclose(np_(state[0]), h, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np_(state[1]), c, rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(np_(state), h, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_matches_torch(kind):
    torch = pytest.importorskip("torch")
    dlcore.manual_seed(7)
    m = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    ref = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    with torch.no_grad():
        for name, p in m.named_parameters():
            getattr(ref, name).copy_(torch.from_numpy(np_(p)))
    x = np.random.default_rng(8).standard_normal((2, 6, 3)).astype(np.float32)
    out, _ = m(dlcore.tensor(x))
    ref_out, _ = ref(torch.from_numpy(x))
    np.testing.assert_allclose(np_(out), ref_out.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_gradcheck(kind, device):
    dlcore.manual_seed(9)
    m = getattr(nn, kind)(2, 3, bidirectional=True).to(device).double()
    x = dlcore.randn(3, 2, 2, dtype="float64", device=device, requires_grad=True)
    h0 = dlcore.randn(2, 2, 3, dtype="float64", device=device, requires_grad=True)
    module_run, params = with_params(m, list(m.parameters()))
    state = (lambda h: (h, h * 0.5)) if kind == "LSTM" else (lambda h: h)
    assert gradcheck(lambda x, h0, *ps: module_run(x, state(h0), *ps)[0], [x, h0] + params)


def test_recurrent_input_errors():
    with pytest.raises(ValueError, match=r"\[LSTM\] expected input of shape \(T, N, 3\), got \(5, 2\)"):
        nn.LSTM(3, 4)(dlcore.zeros(5, 2))
    with pytest.raises(ValueError, match=r"\[GRU\] expected h_0 of shape \(1, 2, 4\)"):
        nn.GRU(3, 4)(dlcore.zeros(5, 2, 3), dlcore.zeros(2, 2, 4))


# ---- init -----------------------------------------------------------------------------------

def test_init_statistics():
    dlcore.manual_seed(10)
    w = dlcore.empty(400, 300)
    nn.init.xavier_uniform_(w)
    a = np.sqrt(6 / 700)
    assert np.abs(np_(w)).max() <= a and abs(np_(w).std() - a / np.sqrt(3)) < 0.02 * a
    nn.init.xavier_normal_(w, gain=2.0)
    assert abs(np_(w).std() - 2 * np.sqrt(2 / 700)) < 0.02 * 2 * np.sqrt(2 / 700)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(np_(w).std() - np.sqrt(2 / 300)) < 0.02 * np.sqrt(2 / 300)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert np.abs(np_(w)).max() <= np.sqrt(3) * np.sqrt(2 / 400)
    conv = dlcore.empty(8, 4, 3, 3)
    nn.init.kaiming_normal_(conv, nonlinearity="relu")  # fan_in = 4 * 3 * 3
    assert abs(np_(conv).std() - np.sqrt(2 / 36)) < 0.15 * np.sqrt(2 / 36)
    nn.init.constant_(w, 0.5)
    assert (np_(w) == 0.5).all()
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(np.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match=r"\[xavier_uniform_\] needs a weight of at least 2 dims"):
        nn.init.xavier_uniform_(dlcore.empty(5))


def test_orthogonal_and_sparse():
    dlcore.manual_seed(11)
    for shape in [(6, 4), (4, 6), (5, 2, 2)]:
        w = nn.init.orthogonal_(dlcore.empty(*shape, dtype="float64"), gain=1.5)
        m = np_(w).reshape(shape[0], -1)
        small = m.T @ m if shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(small, 2.25 * np.eye(small.shape[0]), atol=1e-12)
    s = nn.init.sparse_(dlcore.empty(10, 30), nonzeros=4, std=0.1)
    assert ((np_(s) != 0).sum(1) == 4).all()
    s = nn.init.sparse_(dlcore.empty(10, 30), sparsity=0.9)
    assert ((np_(s) != 0).sum(1) == 3).all()


@pytest.mark.skipif("cuda" not in DEVICES, reason="no cuda device")
def test_init_identical_on_cpu_and_cuda():
    for fn in (nn.init.xavier_uniform_, nn.init.kaiming_normal_, nn.init.orthogonal_):
        dlcore.manual_seed(12)
        a = fn(dlcore.empty(7, 5))
        dlcore.manual_seed(12)
        b = fn(dlcore.empty(7, 5, device="cuda"))
        np.testing.assert_array_equal(np_(a), np_(b))


# ---- loss modules and training end to end --------------------------------------------------

def test_loss_modules_match_functional():
    x = dlcore.randn(4, 3)
    y = dlcore.tensor([0, 2, 1, 2])
    t = dlcore.rand(4, 3)
    w = dlcore.tensor([0.5, 2.0, 1.0])
    cases = [(nn.CrossEntropyLoss(label_smoothing=0.1), (x, y), F.cross_entropy(x, y, label_smoothing=0.1)),
             (nn.NLLLoss(), (F.log_softmax(x, 1), y), F.nll_loss(F.log_softmax(x, 1), y)),
             (nn.MSELoss(reduction="sum"), (x, t), F.mse_loss(x, t, "sum")), (nn.L1Loss(), (x, t), F.l1_loss(x, t)),
             (nn.SmoothL1Loss(beta=0.5), (x, t), F.smooth_l1_loss(x, t, beta=0.5)),
             (nn.HuberLoss(delta=0.3), (x, t), F.huber_loss(x, t, delta=0.3)),
             (nn.BCELoss(), (F.sigmoid(x), t), F.binary_cross_entropy(F.sigmoid(x), t)),
             (nn.BCEWithLogitsLoss(), (x, t), F.binary_cross_entropy_with_logits(x, t)),
             (nn.MultiMarginLoss(p=2), (x, y), F.multi_margin_loss(x, y, p=2)),
             (nn.KLDivLoss(reduction="batchmean"), (F.log_softmax(x, 1), F.softmax(t, 1)),
              F.kl_div(F.log_softmax(x, 1), F.softmax(t, 1), reduction="batchmean")),
             (nn.CosineProximityLoss(), (x, t), F.cosine_proximity_loss(x, t)),
             (nn.CrossEntropyLoss(weight=w), (x, y), F.cross_entropy(x, y, w)),
             (nn.NLLLoss(weight=w), (F.log_softmax(x, 1), y), F.nll_loss(F.log_softmax(x, 1), y, w)),
             (nn.BCELoss(weight=w), (F.sigmoid(x), t), F.binary_cross_entropy(F.sigmoid(x), t, w)),
             (nn.BCEWithLogitsLoss(weight=w, pos_weight=w * 2), (x, t),
              F.binary_cross_entropy_with_logits(x, t, w, pos_weight=w * 2)),
             (nn.MultiMarginLoss(weight=w), (x, y), F.multi_margin_loss(x, y, weight=w))]
    for module, args, ref in cases:
        assert module(*args).item() == ref.item(), repr(module)


def test_loss_module_weights_are_buffers():
    w = dlcore.tensor([1.0, 2.0, 0.5])
    m = nn.BCEWithLogitsLoss(pos_weight=w)
    assert set(m.state_dict()) == {"pos_weight"} and m.pos_weight is w
    assert set(nn.CrossEntropyLoss().state_dict()) == set()


def _spirals(n=200):
    rng = np.random.default_rng(0)
    r = np.linspace(0.1, 1, n)
    angle = np.linspace(0, 3 * np.pi, n)
    pts = np.concatenate([np.stack([r * np.cos(angle), r * np.sin(angle)], 1),
                          np.stack([-r * np.cos(angle), -r * np.sin(angle)], 1)]) + rng.normal(0, 0.02, (2 * n, 2))
    return pts, np.repeat([0, 1], n)


def _descend(device, steps, lr=0.5):
    """Full-batch gradient descent, written out by hand, of a 2-64-64-2 tanh MLP on the spirals."""
    pts, labels = _spirals()
    dlcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 64, activation="tanh"), nn.Linear(64, 64, activation="tanh"),
                          nn.Linear(64, 2)).to(device)
    x, y = dlcore.tensor(pts, dtype="float32", device=device), dlcore.tensor(labels, device=device)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        with dlcore.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    with dlcore.no_grad():
        accuracy = (np_(model(x)).argmax(1) == labels).mean()
    return losses, accuracy


def test_mlp_learns_two_spirals_by_gradient_descent():
    """The autograd engine and the layers together separate two interleaved spirals (not
    linearly separable)."""
    losses, accuracy = _descend("cpu", 1500)
    assert accuracy > 0.97, f"accuracy {accuracy:.3f}, loss {losses[-1]:.4f}"


@pytest.mark.skipif("cuda" not in DEVICES, reason="no cuda device")
def test_training_on_cuda_follows_the_cpu():
    cpu, _ = _descend("cpu", 30)
    cuda, _ = _descend("cuda", 30)
    np.testing.assert_allclose(cuda, cpu, rtol=1e-4)
    assert cpu[-1] < cpu[0]
