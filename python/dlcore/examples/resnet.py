"""A small ResNet-style CNN: a stem, three residual blocks (two 3x3 convolutions with batch norm
around a skip connection; a strided 1x1 convolution on the skip where the shape changes), global
average pooling and a dense classifier."""
from dlcore import nn, optim

from . import _common


def block(cin, cout, stride):
    body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
    skip = None if (cin, stride) == (cout, 1) else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                                 nn.BatchNorm2d(cout))
    return nn.Residual(body, skip, activation=nn.ReLU())


def small_resnet(width=16):
    return nn.Sequential(nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                         block(width, width, 1), block(width, 2 * width, 2), block(2 * width, 4 * width, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, 10))


def main(argv=None):
    args = _common.parser(__doc__, epochs=2, lr=1e-3, batch_size=128).parse_args(argv)
    model = small_resnet()
    return _common.train(model, optim.Adam(model.parameters(), lr=args.lr), args, flatten=False,
                         title="small ResNet")[1]


if __name__ == "__main__":
    main()
