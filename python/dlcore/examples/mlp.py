"""A two-layer perceptron, 784-100-10, ReLU (fused into the first GEMM), Adam with a cosine
learning-rate schedule."""
from dlcore import nn, optim

from . import _common


def main(argv=None):
    args = _common.parser(__doc__, epochs=10, lr=2e-3).parse_args(argv)
    model = nn.Sequential(nn.Linear(784, 100, activation="relu"), nn.Linear(100, 10))
    return _common.train(model, optim.Adam(model.parameters(), lr=args.lr), args, flatten=True,
                         title="MLP 784-100-10", cosine=True)[1]


if __name__ == "__main__":
    main()
