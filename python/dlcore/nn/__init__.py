"""dlcore.nn: Module and Parameter, containers, layers, recurrent layers, loss modules and
weight initialisation (dlcore.nn.init), with PyTorch's names and defaults."""
from .. import functional
from . import init
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers_all
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses_all
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential
from .recurrent import GRU, LSTM, RNN

__all__ = (["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "RNN", "LSTM", "GRU", "init",
            "functional"] + list(_layers_all) + list(_losses_all))
