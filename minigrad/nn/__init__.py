"""Neural networks on the engine.

Single-number granularity (micrograd-compatible, every weight its own Value): `Neuron`,
`Layer`, `MLP`. Array granularity (a batch per operation, for real training): `Linear`, the
convolution, pooling, normalization and embedding layers, the activation modules and the
dropouts, held together by `Sequential`, `ModuleList` and `ModuleDict`. `init` fills weights;
`Module` is the base.
"""

from minigrad.nn import init, utils
from minigrad.nn.attention import MultiheadAttention
from minigrad.nn.containers import ModuleDict, ModuleList, Sequential
from minigrad.nn.conv import Conv1d, Conv2d
from minigrad.nn.embedding import Embedding
from minigrad.nn.layers import (
    Dropout,
    Dropout2d,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from minigrad.nn.module import Module
from minigrad.nn.neurons import MLP, Layer, Neuron
from minigrad.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from minigrad.nn.pool import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from minigrad.nn.recurrent import GRU, LSTM, RNN
from minigrad.nn.rnn_cells import GRUCell, LSTMCell, RNNCell

__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Linear",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Identity",
    "Softplus",
    "LeakyReLU",
    "Softmax",
    "LogSoftmax",
    "Flatten",
    "Dropout",
    "Dropout2d",
    "Conv1d",
    "Conv2d",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "Embedding",
    "RNN",
    "LSTM",
    "GRU",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "MultiheadAttention",
    "init",
    "utils",
]
