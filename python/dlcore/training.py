"""The training loop: fit() (and Module.compile / Module.fit in the Keras manner), evaluate(),
predict(), metrics, callbacks (early stopping with the best weights restored, checkpoints,
learning-rate schedules), the returned History and its plot.

Per batch, fit() runs forward, loss, backward and one fused optimizer step; the loss and the
metrics accumulate on the device and are read back only when the progress bar refreshes, so a
CUDA run is not synchronised on every batch."""
import math
import time

import numpy as np

from .autograd import no_grad
from .functional import _number
from .tensor import Tensor, cat, tensor

__all__ = ["fit", "evaluate", "predict", "History", "Callback", "EarlyStopping", "ModelCheckpoint",
           "LearningRateScheduler", "accuracy", "plot_history"]


# ---- metrics: fn(output, target) -> (a 0-d sum over the batch, the batch's count) -------------

def accuracy(output, target):
    """The fraction of rows whose highest score is the target class (or, for one-hot / soft
    targets, the target's highest class)."""
    if target.ndim == output.ndim and target.shape == output.shape:
        target = target.argmax(-1)
    if target.shape != output.shape[:-1]:
        raise ValueError(f"[accuracy] expected targets of shape {tuple(output.shape[:-1])} (class indices) or "
                         f"{tuple(output.shape)} (one-hot) for outputs {tuple(output.shape)}, got {tuple(target.shape)}")
    return (output.argmax(-1) == target).sum(), target.numel()


_METRICS = {"accuracy": accuracy, "acc": accuracy}


def _metric(m):
    if callable(m):
        return getattr(m, "__name__", "metric"), m
    if m not in _METRICS:
        raise ValueError(f"[fit] unknown metric {m!r}; expected one of {sorted(_METRICS)} or a function")
    return ("accuracy" if m == "acc" else m), _METRICS[m]


class History:
    """history[name]: one value per epoch (loss, the metrics, their val_ versions, lr, seconds)."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def append(self, epoch, logs):
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, name):
        return self.history[name]

    def __repr__(self):
        return f"History({', '.join(f'{k}: {v[-1]:.4g}' for k, v in self.history.items())})"


# ---- callbacks -------------------------------------------------------------------------------

class Callback:
    """Hooks of the loop; `trainer` has .model, .optimizer, .history and .stop (set it to end)."""

    def on_train_begin(self, trainer):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass


def _improved(mode, value, best, min_delta):
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _mode(monitor, mode):
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"[callback] mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


class EarlyStopping(Callback):
    """Stops when `monitor` has not improved by min_delta for `patience` epochs; with
    restore_best_weights, the model ends with the weights of its best epoch."""

    def __init__(self, monitor="val_loss", patience=3, min_delta=0.0, mode="auto", restore_best_weights=False):
        self.monitor = monitor
        self.patience = _number(patience, "patience", "EarlyStopping", 0, integer=True)
        self.min_delta = _number(min_delta, "min_delta", "EarlyStopping", 0)
        self.mode, self.restore = _mode(monitor, mode), restore_best_weights

    def on_train_begin(self, trainer):
        self.best, self.wait, self.best_state, self.best_epoch = (math.inf if self.mode == "min" else -math.inf), 0, None, None

    def on_epoch_end(self, trainer, epoch, logs):
        if self.monitor not in logs:
            raise KeyError(f"[EarlyStopping] monitors {self.monitor!r}, which the logs lack: {sorted(logs)}")
        value = logs[self.monitor]
        if _improved(self.mode, value, self.best, self.min_delta):
            self.best, self.wait, self.best_epoch = value, 0, epoch
            if self.restore:
                self.best_state = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop = True

    def on_train_end(self, trainer):
        if self.restore and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Saves a checkpoint (model, optimizer, schedule, generator state; see dlcore.save_checkpoint)
    after every epoch, or only when `monitor` improves with save_best_only. The path may contain
    {epoch} and any logged value, e.g. "ckpt-{epoch:02d}-{val_loss:.3f}.npz"."""

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto"):
        self.path, self.monitor, self.save_best_only, self.mode = str(path), monitor, save_best_only, _mode(monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None or not _improved(self.mode, value, self.best, 0.0):
                return
            self.best = value
        from .checkpoint import save_checkpoint
        save_checkpoint(self.path.format(epoch=epoch + 1, **logs), trainer.model, trainer.optimizer,
                        trainer.scheduler, trainer.train_loader, epoch=epoch + 1)


class LearningRateScheduler(Callback):
    """Steps a schedule of dlcore.optim.lr_scheduler once per epoch (a ReduceLROnPlateau with the
    value of `monitor`)."""

    def __init__(self, scheduler, monitor="val_loss"):
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"[LearningRateScheduler] expected a scheduler of dlcore.optim.lr_scheduler (with step()), "
                            f"got {type(scheduler).__name__}")
        self.scheduler, self.monitor = scheduler, monitor

    def on_epoch_end(self, trainer, epoch, logs):
        if hasattr(self.scheduler, "best"):
            self.scheduler.step(logs[self.monitor])
        else:
            self.scheduler.step()


# ---- the loop ----------------------------------------------------------------------------------

class _Trainer:
    def __init__(self, model, optimizer, scheduler, train_loader):
        self.model, self.optimizer, self.scheduler, self.train_loader = model, optimizer, scheduler, train_loader
        self.history, self.stop = History(), False


def _loss_fn(loss):
    if callable(loss):
        return loss
    from . import functional as F
    table = {"cross_entropy": F.cross_entropy, "categorical_crossentropy": F.cross_entropy, "mse": F.mse_loss,
             "mean_squared_error": F.mse_loss, "nll": F.nll_loss, "bce": F.binary_cross_entropy,
             "bce_with_logits": F.binary_cross_entropy_with_logits, "hinge": F.multi_margin_loss,
             "l1": F.l1_loss, "huber": F.huber_loss}
    if loss not in table:
        raise ValueError(f"[fit] unknown loss {loss!r}; expected a function or one of {sorted(table)}")
    return table[loss]


def _progress(total, desc, verbose):
    if not verbose:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="batch", leave=True, dynamic_ncols=True)


def _run_epoch(model, loss_fn, loader, metrics, optimizer=None, bar=None, refresh=10):
    """One pass over loader (training when an optimizer is given). Returns the mean loss and
    metrics over all samples."""
    total_loss, seen, sums, counts = None, 0, [None] * len(metrics), [0] * len(metrics)
    start = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        out = model(x)
        loss = loss_fn(out, y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        n = x.shape[0]
        with no_grad():
            weighted = loss.detach() * n
            total_loss = weighted if total_loss is None else total_loss + weighted
            for k, (_, fn) in enumerate(metrics):
                s, c = fn(out.detach(), y)
                sums[k] = s if sums[k] is None else sums[k] + s
                counts[k] += c
        seen += n
        if bar is not None:
            bar.update(1)
            if i % refresh == 0:
                post = {"loss": f"{total_loss.item() / seen:.4f}"}
                post.update({name: f"{sums[k].item() / counts[k]:.4f}" for k, (name, _) in enumerate(metrics)})
                post["samples/s"] = f"{seen / (time.perf_counter() - start):.0f}"
                bar.set_postfix(post, refresh=False)
    if seen == 0:
        raise ValueError("[fit] the data loader yielded no batches")
    logs = {"loss": total_loss.item() / seen}
    logs.update({name: sums[k].item() / counts[k] for k, (name, _) in enumerate(metrics)})
    return logs


def fit(model, loss, optimizer, train_loader, epochs=1, val_loader=None, metrics=("accuracy",), callbacks=(),
        scheduler=None, initial_epoch=0, verbose=True):
    """Trains model for epochs (from initial_epoch, e.g. after loading a checkpoint): loss a function
    (output, target) -> scalar or a name ("cross_entropy", "mse", ...); metrics names or functions
    (output, target) -> (sum, count); scheduler (optional) stepped once per epoch; callbacks see every
    epoch's logs. Returns the History: per epoch loss, metrics, their val_ forms, lr and the epoch's
    training time in seconds."""
    loss_fn = _loss_fn(loss)
    metrics = [_metric(m) for m in metrics]
    initial_epoch = _number(initial_epoch, "initial_epoch", "fit", 0, integer=True)
    epochs = _number(epochs, "epochs (>= initial_epoch)", "fit", initial_epoch, integer=True)
    callbacks = list(callbacks)
    if scheduler is not None:
        callbacks.append(LearningRateScheduler(scheduler))
    trainer = _Trainer(model, optimizer, scheduler, train_loader)
    for cb in callbacks:
        cb.on_train_begin(trainer)
    for epoch in range(initial_epoch, epochs):
        if hasattr(train_loader, "epoch"):
            train_loader.epoch = epoch  # the shuffle of epoch e is the same however the run got there
        model.train()
        bar = _progress(len(train_loader) if hasattr(train_loader, "__len__") else None,
                        f"epoch {epoch + 1}/{epochs}", verbose)
        lr = optimizer.param_groups[0]["lr"]
        start = time.perf_counter()
        logs = _run_epoch(model, loss_fn, train_loader, metrics, optimizer, bar)
        seconds = time.perf_counter() - start
        if val_loader is not None:
            logs.update({"val_" + k: v for k, v in evaluate(model, loss_fn, val_loader, [m[1] for m in metrics],
                                                            _names=[m[0] for m in metrics]).items()})
        logs["lr"], logs["seconds"] = lr, seconds
        if bar is not None:
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if k not in ("lr", "seconds")}, refresh=True)
            bar.close()
        trainer.history.append(epoch, logs)
        for cb in callbacks:
            cb.on_epoch_end(trainer, epoch, logs)
        if trainer.stop:
            break
    for cb in callbacks:
        cb.on_train_end(trainer)
    return trainer.history


def evaluate(model, loss, loader, metrics=("accuracy",), _names=None):
    """The mean loss and metrics of model over loader, in eval mode, without recording a graph."""
    loss_fn = _loss_fn(loss)
    ms = [_metric(m) for m in metrics] if _names is None else list(zip(_names, metrics))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return _run_epoch(model, loss_fn, loader, ms)
    finally:
        model.train(was_training)


def predict(model, data, batch_size=256):
    """model's outputs, in eval mode, for a tensor / array (in batches of batch_size) or a loader
    (its first array), concatenated."""
    batch_size = _number(batch_size, "batch_size", "predict", 1, integer=True)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            if isinstance(data, (Tensor, np.ndarray)):
                x = data if isinstance(data, Tensor) else tensor(data)
                dev = next((p.device for p in model.parameters()), x.device)
                outs = [model(x[i:i + batch_size].to(dev)) for i in range(0, x.shape[0], batch_size)]
            else:
                outs = [model(batch[0]) for batch in data]
            return cat(outs, 0)
    finally:
        model.train(was_training)


def plot_history(history, path, title=None):
    """Writes the loss and metric curves (training vs validation, one panel each) to a PNG with
    matplotlib; returns the path, or None when matplotlib is not installed."""
    h = history.history if isinstance(history, History) else history
    if not isinstance(h, dict):
        raise TypeError(f"[plot_history] expected a History or a dict of per-epoch lists, got {type(history).__name__}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = [k for k in h if not k.startswith("val_") and k not in ("lr", "seconds")]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(h[name]) + 1)
        ax.plot(epochs, h[name], label="train")
        if "val_" + name in h:
            ax.plot(epochs, h["val_" + name], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ---- Keras' compile / fit on a Module ------------------------------------------------------------

def _make_optimizer(optimizer, params, lr):
    from . import optim
    if isinstance(optimizer, optim.Optimizer):
        return optimizer
    table = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
             "adagrad": optim.Adagrad, "adadelta": optim.Adadelta}
    if optimizer not in table:
        raise ValueError(f"[compile] unknown optimizer {optimizer!r}; expected an Optimizer or one of {sorted(table)}")
    return table[optimizer](params, **({} if lr is None else {"lr": lr}))


def compile_module(model, optimizer="adam", loss="cross_entropy", metrics=("accuracy",), lr=None):
    model._compiled = {"optimizer": _make_optimizer(optimizer, model.parameters(), lr), "loss": loss,
                       "metrics": tuple(metrics)}
    return model


def _loader(x, y, batch_size, shuffle, seed):
    from .data import DataLoader, TensorDataset
    if y is None:
        return x  # a DataLoader (or any iterable of (x, y) batches)
    return DataLoader(TensorDataset(x, y), batch_size, shuffle=shuffle, seed=seed)


def fit_module(model, x, y=None, batch_size=32, epochs=1, validation_data=None, validation_split=0.0,
               shuffle=True, callbacks=(), verbose=True, seed=0, initial_epoch=0):
    if "_compiled" not in model.__dict__:
        raise RuntimeError("[fit] call model.compile(optimizer, loss, metrics) first")
    c = model._compiled
    if y is not None and validation_split:
        n_val = int(round(len(x) * validation_split))
        x, y, validation_data = x[:-n_val], y[:-n_val], (x[-n_val:], y[-n_val:])
    train = _loader(x, y, batch_size, shuffle, seed)
    val = None
    if validation_data is not None:
        val = _loader(*validation_data, batch_size, False, seed) if isinstance(validation_data, tuple) else validation_data
    return fit(model, c["loss"], c["optimizer"], train, epochs, val, c["metrics"], callbacks, None, initial_epoch,
               verbose)


def evaluate_module(model, x, y=None, batch_size=256):
    if "_compiled" not in model.__dict__:
        raise RuntimeError("[evaluate] call model.compile(optimizer, loss, metrics) first")
    c = model._compiled
    return evaluate(model, c["loss"], _loader(x, y, batch_size, False, 0), c["metrics"])
