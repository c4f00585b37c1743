"""The optimizers of the course notes side by side: the same MLP (784-100-10) from the same
initial weights, trained by SGD, SGD with momentum, Nesterov momentum, Adagrad, RMSprop, Adadelta
and Adam; their training-loss curves on one chart (--plot, default optimizers.png)."""
import dlcore
from dlcore import nn, optim

from . import _common

OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.05),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.05),
    "RMSprop": lambda p: optim.RMSprop(p, lr=1e-3),
    "Adadelta": lambda p: optim.Adadelta(p, lr=1.0),
    "Adam": lambda p: optim.Adam(p, lr=1e-3),
}


def main(argv=None):
    p = _common.parser(__doc__, epochs=3)
    p.set_defaults(plot="optimizers.png")
    args = p.parse_args(argv)
    train_loader, test_loader, name = _common.loaders(args, flatten=True)
    dlcore.manual_seed(args.seed)
    initial = nn.Sequential(nn.Linear(784, 100, activation="relu"), nn.Linear(100, 10)).state_dict()
    curves, results = {}, {}
    for label, make in OPTIMIZERS.items():
        model = nn.Sequential(nn.Linear(784, 100, activation="relu"), nn.Linear(100, 10))
        model.load_state_dict(initial)
        model.to(args.device)
        history = dlcore.fit(model, "cross_entropy", make(model.parameters()), train_loader, args.epochs,
                             val_loader=test_loader, verbose=not args.quiet)
        curves[label], results[label] = history["loss"], history["val_accuracy"][-1]
        print(f"{label:>9}: training loss {history['loss'][-1]:.4f}, test accuracy {100 * results[label]:.2f}%")
    if args.plot:
        _plot(curves, args.plot, name)
    return results


def _plot(curves, path, name):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart")
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.set_title(f"optimizers on {name}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"chart: {path}")


if __name__ == "__main__":
    main()
