"""The classic MNIST CNN of the course notes (and of PyTorch's MNIST example):
conv 1->10 k5, max-pool 2, ReLU, conv 10->20 k5, dropout2d, max-pool 2, ReLU, dense 320->50 (ReLU),
dropout, dense 50->10; both dropouts p = 0.25. Adam with a cosine learning-rate schedule."""
from dlcore import nn, optim

from . import _common


def classic_cnn(p=0.25):
    return nn.Sequential(
        nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(10, 20, 5), nn.Dropout2d(p), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(320, 50, activation="relu"), nn.Dropout(p), nn.Linear(50, 10))


def main(argv=None):
    args = _common.parser(__doc__, epochs=15, lr=2e-3).parse_args(argv)
    model = classic_cnn()
    return _common.train(model, optim.Adam(model.parameters(), lr=args.lr), args, flatten=False,
                         title="classic CNN", cosine=True)[1]


if __name__ == "__main__":
    main()
