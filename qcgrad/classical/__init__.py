"""Classical deep networks as qcgrad Models (batched over init samples with torch.func)."""
from typing import Callable

from .activations import ACTIVATIONS
from .base import TorchModel
from .densenet import densenet
from .feedforward import deep_linear, mlp, tower
from .inits import INITS
from .recurrent import gru, lstm, rnn
from .residual import resnet
from .transformer import attention_weights, transformer
from .unet import unet

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
    "ARCHITECTURES", "ACTIVATIONS", "INITS", "TorchModel", "attention_weights",
    "tower", "deep_linear", "mlp", "resnet", "densenet", "unet", "rnn", "lstm", "gru", "transformer",
]
