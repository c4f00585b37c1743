"""Softmax regression: a linear layer whose scores go through the fused softmax + cross-entropy."""
from dlcore import nn, optim

from . import _common


def main(argv=None):
    args = _common.parser(__doc__, epochs=5, lr=0.1).parse_args(argv)
    model = nn.Linear(784, 10)
    return _common.train(model, optim.SGD(model.parameters(), lr=args.lr), args, flatten=True,
                         title="softmax regression")[1]


if __name__ == "__main__":
    main()
