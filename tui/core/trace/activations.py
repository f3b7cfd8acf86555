"""Canonical names of elementwise activations, for modules and for the aten ops they run as."""

from __future__ import annotations

from torch import nn

# Module classes -> canonical name. Checked before the op table, so ReLU6 reads "relu6"
# rather than the "hardtanh" op it runs as.
MODULE_ACTIVATIONS: dict[type[nn.Module], str] = {
    nn.ReLU: "relu",
    nn.ReLU6: "relu6",
    nn.LeakyReLU: "leaky_relu",
    nn.PReLU: "prelu",
    nn.RReLU: "rrelu",
    nn.Sigmoid: "sigmoid",
    nn.Tanh: "tanh",
    nn.Softmax: "softmax",
    nn.LogSoftmax: "log_softmax",
    nn.GELU: "gelu",
    nn.SiLU: "silu",
    nn.ELU: "elu",
    nn.SELU: "selu",
    nn.CELU: "celu",
    nn.Mish: "mish",
    nn.Softplus: "softplus",
    nn.Hardtanh: "hardtanh",
    nn.Hardswish: "hardswish",
    nn.Hardsigmoid: "hardsigmoid",
    nn.LogSigmoid: "log_sigmoid",
    nn.Softsign: "softsign",
    nn.Tanhshrink: "tanhshrink",
}

# aten op packet names -> canonical name; in-place forms (relu_) map to the same name.
OP_ACTIVATIONS: dict[str, str] = {
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "rrelu_with_noise": "rrelu",
    "_prelu_kernel": "prelu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "_softmax": "softmax",
    "_log_softmax": "log_softmax",
    "gelu": "gelu",
    "silu": "silu",
    "elu": "elu",
    "celu": "celu",
    "selu": "selu",
    "mish": "mish",
    "softplus": "softplus",
    "hardtanh": "hardtanh",
    "hardswish": "hardswish",
    "hardsigmoid": "hardsigmoid",
    "log_sigmoid_forward": "log_sigmoid",
}
OP_ACTIVATIONS.update({f"{k}_": v for k, v in list(OP_ACTIVATIONS.items())})


def module_activation(module: nn.Module) -> str | None:
    """The canonical activation name of an activation module, or ``None`` for other modules."""
    return MODULE_ACTIVATIONS.get(type(module))
