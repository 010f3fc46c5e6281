#!/usr/bin/python3
"""Golden values for clg_linear_activation (ops/matmul.c): act(x W^T + b),
torch.nn.functional.linear then the activation, for x (6, 5), W (7, 5) and
b (7), gradients to all three; the activations in test_fused_acts' order
(tests/support/support.c: leaky_relu's slope 0.1, elu's alpha 1), then
relu and tanh without a bias and a batch of one row."""
import torch
import torch.nn.functional as F

from common import Fixture

fx = Fixture("ops_linear", seed=5)
acts = {
    "identity": lambda z: z,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.1),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "elu": F.elu,
    "selu": F.selu,
    "hardsigmoid": F.hardsigmoid,
}
for name, fn in acts.items():
    fx.case("linear.%s" % name, lambda x, w, b, fn=fn: fn(F.linear(x, w, b)),
            [fx.rand(6, 5, low=-2, high=2), fx.rand(7, 5), fx.rand(7)])
for name in ("relu", "tanh"):
    fx.case("linear_nobias.%s" % name, lambda x, w, fn=acts[name]: fn(F.linear(x, w)),
            [fx.rand(6, 5, low=-2, high=2), fx.rand(7, 5)])
fx.case("linear_row.tanh", lambda x, w, b: torch.tanh(F.linear(x, w, b)),
        [fx.rand(1, 5, low=-2, high=2), fx.rand(7, 5), fx.rand(7)])
fx.save()
