"""A two-layer perceptron, 784-100-10, ReLU (fused into the first GEMM), SGD with momentum."""
from dlcore import nn, optim

from . import _common


def main(argv=None):
    args = _common.parser(__doc__, epochs=5, lr=0.05).parse_args(argv)
    model = nn.Sequential(nn.Linear(784, 100, activation="relu"), nn.Linear(100, 10))
    return _common.train(model, optim.SGD(model.parameters(), lr=args.lr, momentum=0.9), args, flatten=True,
                         title="MLP 784-100-10")[1]


if __name__ == "__main__":
    main()
