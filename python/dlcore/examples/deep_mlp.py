"""A deeper MLP regularised with batch norm and dropout: 784-512-256-10, Adam."""
from dlcore import nn, optim

from . import _common


def main(argv=None):
    args = _common.parser(__doc__, epochs=5, lr=1e-3, batch_size=128).parse_args(argv)
    model = nn.Sequential(
        nn.Linear(784, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(256, 10))
    return _common.train(model, optim.Adam(model.parameters(), lr=args.lr), args, flatten=True,
                         title="deep MLP with batch norm and dropout")[1]


if __name__ == "__main__":
    main()
