"""A linear classifier y = W x + b trained with the mean squared error against one-hot targets
(the course notes' first classifier), by plain SGD."""
import dlcore
from dlcore import data, nn, optim

from . import _common


def main(argv=None):
    args = _common.parser(__doc__, epochs=5, lr=0.1).parse_args(argv)
    train, test, name = _common.load(args, flatten=True)
    if args.limit:
        train = data.TensorDataset(*(a[:args.limit] for a in train.arrays))
    one_hot = lambda ds: data.TensorDataset(ds.arrays[0], _common.one_hot(ds.arrays[1]))  # noqa: E731
    dlcore.manual_seed(args.seed)
    model = nn.Linear(784, 10).to(args.device)
    history = dlcore.fit(model, "mse", optim.SGD(model.parameters(), lr=args.lr),
                         data.DataLoader(one_hot(train), args.batch_size, shuffle=True, seed=args.seed,
                                         device=args.device),
                         args.epochs, val_loader=data.DataLoader(one_hot(test), 1000, device=args.device),
                         verbose=not args.quiet)
    acc = history["val_accuracy"][-1]
    print(f"linear classifier (MSE, one-hot) on {name}: test accuracy {100 * acc:.2f}%")
    if args.plot:
        dlcore.plot_history(history, args.plot, "linear classifier, MSE")
    return acc


if __name__ == "__main__":
    main()
