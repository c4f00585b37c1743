"""The training loop and what surrounds it: learning-rate schedules, fit / evaluate / predict,
callbacks, Keras' compile / fit, checkpoints (an interrupted and resumed run reproduces an
uninterrupted one exactly; hostile files are refused) and the history plot."""
import math
import os

import numpy as np
import pytest

import dlcore
from dlcore import data, nn, optim
from dlcore.optim import lr_scheduler as sched


def _opt(lr=1.0):
    return optim.SGD([nn.Parameter(dlcore.zeros(1))], lr=lr)


def _lrs(s, n):
    out = []
    for _ in range(n):
        out.append(s.get_last_lr()[0])
        s.step()
    return out


# ---- schedules -------------------------------------------------------------------------------

def test_linear_decay_is_the_course_notes_formula():
    o = _opt(0.5)
    got = _lrs(sched.LinearDecay(o, total_steps=4, end_lr=0.1), 7)
    want = [(1 - min(k / 4, 1)) * 0.5 + min(k / 4, 1) * 0.1 for k in range(7)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_step_multistep_exponential_cosine_warmup():
    np.testing.assert_allclose(_lrs(sched.StepLR(_opt(), 2, gamma=0.5), 5), [1, 1, 0.5, 0.5, 0.25])
    np.testing.assert_allclose(_lrs(sched.MultiStepLR(_opt(), [1, 3], gamma=0.1), 4), [1, 0.1, 0.1, 0.01])
    np.testing.assert_allclose(_lrs(sched.ExponentialLR(_opt(), 0.9), 3), [1, 0.9, 0.81])
    got = _lrs(sched.CosineAnnealingLR(_opt(), T_max=6, eta_min=0.1, warmup_steps=2), 8)
    want = [0, 0.5] + [0.1 + 0.9 * (1 + math.cos(math.pi * min(k / 4, 1))) / 2 for k in range(6)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(_lrs(sched.LinearWarmup(_opt(2.0), 4), 6), [0, 0.5, 1, 1.5, 2, 2])


def test_schedules_compose():
    o = _opt()
    chained = sched.ChainedScheduler([sched.LinearWarmup(o, 2), sched.ExponentialLR(o, 0.5)])
    np.testing.assert_allclose(_lrs(chained, 4), [0, 0.25, 0.25, 0.125])
    o = _opt()
    seq = sched.SequentialLR([sched.LinearWarmup(o, 2), sched.StepLR(o, 1, 0.1)], milestones=[2])
    np.testing.assert_allclose(_lrs(seq, 5), [0, 0.5, 1, 0.1, 0.01])


def test_reduce_on_plateau():
    o = _opt()
    s = sched.ReduceLROnPlateau(o, factor=0.5, patience=1)
    for metric in [5, 4, 4, 4, 3, 3, 3]:
        s.step(metric)
    assert o.param_groups[0]["lr"] == 0.25
    with pytest.raises(ValueError, match=r"\[ReduceLROnPlateau\]"):
        sched.ReduceLROnPlateau(o, factor=2)


def test_schedule_state_round_trip():
    o = _opt()
    s = sched.StepLR(o, 2, 0.5)
    for _ in range(3):
        s.step()
    o2 = _opt()
    s2 = sched.StepLR(o2, 2, 0.5)
    s2.load_state_dict(s.state_dict())
    assert s2.get_last_lr() == s.get_last_lr() == [0.5]


# ---- fit -----------------------------------------------------------------------------------

def _blobs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (4, 8))
    y = rng.integers(0, 4, n)
    x = (centres[y] + rng.normal(0, 1, (n, 8))).astype(np.float32)
    return x, y


def _model(seed=0, p=0.2):
    dlcore.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 32, activation="relu"), nn.Dropout(p), nn.Linear(32, 4))


def _loaders(batch=32, seed=1):
    x, y = _blobs()
    train, val = data.train_val_split(data.TensorDataset(x, y), 0.25, seed=0)
    return data.DataLoader(train, batch, shuffle=True, seed=seed), data.DataLoader(val, 100)


def test_fit_learns_and_reports_history():
    model = _model()
    train, val = _loaders()
    history = dlcore.fit(model, "cross_entropy", optim.Adam(model.parameters(), lr=1e-2), train, epochs=5,
                         val_loader=val, verbose=False)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
    assert history["loss"][-1] < history["loss"][0] and history["val_accuracy"][-1] > 0.95
    result = dlcore.evaluate(model, "cross_entropy", val)
    assert result["accuracy"] == pytest.approx(history["val_accuracy"][-1])
    assert model.training
    out = dlcore.predict(model, val.dataset.arrays[0], batch_size=64)
    assert out.shape == (150, 4)


def test_early_stopping_restores_the_best_weights():
    model = _model()
    train, val = _loaders()
    stop = dlcore.training.EarlyStopping("val_loss", patience=1, min_delta=10.0, restore_best_weights=True)
    history = dlcore.fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.05), train, epochs=20,
                         val_loader=val, callbacks=[stop], verbose=False)
    assert len(history["loss"]) == 2  # nothing improves by 10: stops after patience
    assert stop.best_epoch == 0
    np.testing.assert_array_equal(model.state_dict()["0.weight"].numpy(), stop.best_state["0.weight"].numpy())


def test_checkpoint_callback_and_schedule(tmp_path):
    model = _model()
    train, val = _loaders()
    opt = optim.SGD(model.parameters(), lr=0.1)
    path = str(tmp_path / "ckpt-{epoch}.npz")
    history = dlcore.fit(model, "cross_entropy", opt, train, 3, val_loader=val, verbose=False,
                         scheduler=sched.StepLR(opt, 1, 0.5),
                         callbacks=[dlcore.training.ModelCheckpoint(path, save_best_only=False)])
    assert history["lr"] == [0.1, 0.05, 0.025]
    assert sorted(os.listdir(tmp_path)) == ["ckpt-1.npz", "ckpt-2.npz", "ckpt-3.npz"]


def _run(tmp_path, epochs, resume_at=None):
    model = _model(seed=0)
    opt = optim.Adam(model.parameters(), lr=5e-3)
    s = sched.ExponentialLR(opt, 0.9)
    train, _ = _loaders(seed=7)
    if resume_at is None:
        return dlcore.fit(model, "cross_entropy", opt, train, epochs, scheduler=s, verbose=False)["loss"]
    first = dlcore.fit(model, "cross_entropy", opt, train, resume_at, scheduler=s, verbose=False)["loss"]
    dlcore.save_checkpoint(tmp_path / "run.npz", model, opt, s, train, epoch=resume_at)
    # fresh objects, a different seed and generator state: everything must come from the file
    model = _model(seed=99)
    opt = optim.Adam(model.parameters(), lr=1.0)
    s = sched.ExponentialLR(opt, 0.9)
    train, _ = _loaders(seed=0)
    dlcore.manual_seed(12345)
    extra = dlcore.load_checkpoint(tmp_path / "run.npz", model, opt, s, train)
    rest = dlcore.fit(model, "cross_entropy", opt, train, epochs, scheduler=s, initial_epoch=extra["epoch"],
                      verbose=False)["loss"]
    return first + rest


def test_resumed_run_reproduces_the_uninterrupted_one_exactly(tmp_path):
    whole = _run(tmp_path, 4)
    resumed = _run(tmp_path, 4, resume_at=2)
    assert resumed == whole  # bit for bit: dropout masks, shuffles, Adam state and lr all restored


def test_checkpoint_loading_refuses_foreign_and_pickled_files(tmp_path):
    model = _model()
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=r"\[load_checkpoint\] .* is not a readable dlcore checkpoint"):
        dlcore.load_checkpoint(tmp_path / "junk.npz", model)
    np.savez(tmp_path / "pickled.npz", meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable dlcore checkpoint"):
        dlcore.load_checkpoint(tmp_path / "pickled.npz", model)
    np.savez(tmp_path / "other.npz", meta=np.array('{"format": "something else"}'))
    with pytest.raises(ValueError, match="is not a dlcore checkpoint"):
        dlcore.load_checkpoint(tmp_path / "other.npz", model)
    dlcore.save_checkpoint(tmp_path / "model.npz", model)
    with pytest.raises(KeyError, match="holds no optimizer state"):
        dlcore.load_checkpoint(tmp_path / "model.npz", model, optim.SGD(model.parameters()))


def test_safetensors_checkpoint_when_installed(tmp_path):
    pytest.importorskip("safetensors")
    model = nn.Linear(3, 2)
    dlcore.save_checkpoint(tmp_path / "m.safetensors", model)
    other = nn.Linear(3, 2)
    dlcore.load_checkpoint(tmp_path / "m.safetensors", other)
    np.testing.assert_array_equal(other.weight.detach().numpy(), model.weight.detach().numpy())


def test_keras_compile_fit_evaluate_predict():
    x, y = _blobs()
    model = _model(p=0.0)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"], lr=1e-2)
    history = model.fit(x, y, batch_size=32, epochs=4, validation_split=0.2, verbose=False)
    assert history["val_accuracy"][-1] > 0.95
    assert model.evaluate(x, y)["accuracy"] > 0.95
    assert model.predict(x[:10]).shape == (10, 4)
    with pytest.raises(RuntimeError, match=r"\[fit\] call model.compile"):
        _model().fit(x, y)


def test_plot_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    h = dlcore.training.History()
    for e in range(3):
        h.append(e, {"loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1), "accuracy": 0.5 + e / 10, "lr": 0.1})
    path = dlcore.plot_history(h, tmp_path / "curves.png", "test")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
