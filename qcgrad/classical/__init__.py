"""Classical deep networks as qcgrad Models (batched over init samples with torch.func)."""
from collections.abc import Callable

from .activations import ACTIVATIONS
from .attention import attention_weights, transformer
from .base import TorchModel
from .dense import densenet
from .encoder_decoder import unet
from .feedforward import deep_linear, mlp, tower
from .inits import INITS
from .module import ModuleModel, from_module
from .recurrent import gru, lstm, rnn
from .residual import resnet

#: Architecture name -> builder; what `qcgrad list` shows.
ARCHITECTURES: dict[str, Callable] = {
    "tower": tower,
    "deep_linear": deep_linear,
    "mlp": mlp,
    "resnet": resnet,
    "densenet": densenet,
    "unet": unet,
    "rnn": rnn,
    "lstm": lstm,
    "gru": gru,
    "transformer": transformer,
}

__all__ = [
    "ARCHITECTURES", "ACTIVATIONS", "INITS", "TorchModel", "ModuleModel", "attention_weights", "from_module",
    "tower", "deep_linear", "mlp", "resnet", "densenet", "unet", "rnn", "lstm", "gru", "transformer",
]
