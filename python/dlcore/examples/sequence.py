"""An image as a sequence: an LSTM (or a GRU, --cell gru) reads the 28 rows of a digit one per
time step, and a dense layer classifies its last hidden state."""
from dlcore import nn, optim

from . import _common


class RowReader(nn.Module):
    def __init__(self, cell="lstm", hidden=64):
        super().__init__()
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        out, _ = self.rnn(x.reshape(x.shape[0], 28, 28))  # (N, 28 rows, 28 pixels)
        return self.head(out[:, -1])


def main(argv=None):
    p = _common.parser(__doc__, epochs=2, lr=2e-3, batch_size=128)
    p.add_argument("--cell", default="lstm", choices=["lstm", "gru"])
    args = p.parse_args(argv)
    model = RowReader(args.cell)
    return _common.train(model, optim.Adam(model.parameters(), lr=args.lr), args, flatten=True,
                         title=f"{args.cell.upper()} over image rows")[1]


if __name__ == "__main__":
    main()
