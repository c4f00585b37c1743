"""The pixel-permutation experiment: shuffle the 784 pixels of every image with one fixed
permutation. An MLP, which sees the pixels as an unordered vector, learns the permuted images as
well as the originals; a CNN, whose filters assume that neighbouring pixels belong together,
loses accuracy."""
import numpy as np

import dlcore
from dlcore import data, nn, optim

from . import _common
from .cnn import classic_cnn


def _run(make_model, train, test, args, flatten):
    shape = (-1, 784) if flatten else (-1, 1, 28, 28)
    dlcore.manual_seed(args.seed)
    model = make_model().to(args.device)
    loaders = [data.DataLoader(data.TensorDataset(d.arrays[0].reshape(shape), d.arrays[1]), bs, shuffle=shuffle,
                               seed=args.seed, device=args.device)
               for d, bs, shuffle in ((train, args.batch_size, True), (test, 1000, False))]
    history = dlcore.fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=args.lr, momentum=0.9),
                         loaders[0], args.epochs, val_loader=loaders[1], verbose=not args.quiet)
    return history["val_accuracy"][-1]


def main(argv=None):
    args = _common.parser(__doc__, epochs=3, lr=0.01).parse_args(argv)
    train, test, name = _common.load(args, flatten=True)
    if args.limit:
        train = data.TensorDataset(*(a[:args.limit] for a in train.arrays))
    perm = np.random.default_rng(args.seed).permutation(784)
    permuted = [data.TensorDataset(d.arrays[0][:, perm], d.arrays[1]) for d in (train, test)]
    mlp = lambda: nn.Sequential(nn.Linear(784, 100, activation="relu"), nn.Linear(100, 10))  # noqa: E731
    results = {}
    for label, make, flatten in (("MLP", mlp, True), ("CNN", classic_cnn, False)):
        results[label] = (_run(make, train, test, args, flatten), _run(make, *permuted, args, flatten))
        print(f"{label} on {name}: original pixels {100 * results[label][0]:.2f}%, "
              f"permuted pixels {100 * results[label][1]:.2f}%")
    return results


if __name__ == "__main__":
    main()
