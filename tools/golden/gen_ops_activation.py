#!/usr/bin/python3
"""Golden values for ops/activation.c: sigmoid, tanh, relu, leaky_relu,
softplus, heaviside, clamp, elu, selu, hardsigmoid.

Cases are "<op>.<variant>.<shape>"; the variants (parameters and input
ranges) are listed in the same order as in tests/ops/test_activation.c.
Shapes: rank 0 to 3, a transposed input (the op applied to x.t()), and for
ops with a kink or a threshold an "edge" case whose inputs sit on it.
heaviside's cases have no gradients: clgrad's heaviside never requires one."""
import torch
import torch.nn.functional as F

from common import Fixture

fx = Fixture("ops_activation", seed=3)


def heaviside(at_zero):
    return lambda x: torch.heaviside(x, torch.tensor(at_zero))


# op -> [(function, low, high)], one entry per variant
ops = {
    "sigmoid": [(torch.sigmoid, -4, 4)],
    "tanh": [(torch.tanh, -3, 3)],
    "relu": [(torch.relu, -2, 2)],
    "leaky_relu": [(lambda x: F.leaky_relu(x, 0.01), -2, 2),
                   (lambda x: F.leaky_relu(x, 0.2), -2, 2)],
    "softplus": [(lambda x: F.softplus(x, 1.0, 20.0), -4, 4),
                 (lambda x: F.softplus(x, 2.0, 5.0), -3, 2),
                 (lambda x: F.softplus(x, 2.0, 5.0), 3, 5)],
    "heaviside": [(heaviside(0.5), -2, 2), (heaviside(0.0), -2, 2), (heaviside(1.0), -2, 2)],
}
edge = torch.tensor([-2.0, -0.5, 0.0, 0.0, 0.5, 2.0])
# the kinks at 0; softplus on both sides of its threshold (beta x = 20 and 5)
edges = {
    "relu": [edge],
    "leaky_relu": [edge, edge],
    "softplus": [torch.tensor([-30.0, 0.0, 19.5, 20.5, 25.0]),
                 torch.tensor([-10.0, 0.0, 2.4, 2.6, 4.0]),
                 torch.tensor([-10.0, 0.0, 2.4, 2.6, 4.0])],
    "heaviside": [edge, edge, edge],
}
shapes = {"scalar": (), "vector": (5,), "matrix": (3, 4), "rank3": (2, 3, 4)}

for name, variants in ops.items():
    grad = [name != "heaviside"]
    for v, (fn, low, high) in enumerate(variants):
        for sname, shape in shapes.items():
            fx.case("%s.%d.%s" % (name, v, sname), fn, [fx.rand(*shape, low=low, high=high)],
                    grad)
        fx.case("%s.%d.transposed" % (name, v), lambda x, fn=fn: fn(x.t()),
                [fx.rand(4, 3, low=low, high=high)], grad)
        if name in edges:
            fx.case("%s.%d.edge" % (name, v), fn, [edges[name][v]], grad)

# clg_bias_activation: act(x + b) for x (5, 7), b (7); gradients to both.
# "none" is the identity; cases follow tests/ops/test_activation.c's order.
bias_acts = {
    "identity": lambda z: z,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.1),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}
for name, fn in bias_acts.items():
    fx.case("bias_act.%s" % name, lambda x, b, fn=fn: fn(x + b),
            [fx.rand(5, 7, low=-2, high=2), fx.rand(7, low=-1, high=1)], [True, True])

# Added later, after every case above so that those keep their random draws:
# clamp (both bounds, min only, max only, min > max), elu, selu, hardsigmoid.
# Each has the shapes above plus "odd" (3, 5, 7), and an "edge" case whose
# inputs sit exactly on the bounds and kinks (and -0.0 for elu and selu).
new_ops = {
    "clamp": [(lambda x: torch.clamp(x, -0.5, 0.7), -1, 1),
              (lambda x: torch.clamp(x, min=0.2), -1, 1),
              (lambda x: torch.clamp(x, max=-0.3), -1, 1),
              (lambda x: torch.clamp(x, 0.5, -0.5), -1, 1)],
    "elu": [(lambda x: F.elu(x, 1.0), -3, 2), (lambda x: F.elu(x, 0.5), -3, 2)],
    "selu": [(F.selu, -3, 2)],
    "hardsigmoid": [(F.hardsigmoid, -5, 5)],
}
kink = torch.tensor([-2.0, -0.5, 0.0, -0.0, 0.5, 2.0])
new_edges = {
    "clamp": [torch.tensor([-1.0, -0.5, 0.0, 0.7, 1.0]),
              torch.tensor([-1.0, 0.2, 0.5]),
              torch.tensor([-1.0, -0.3, 0.5]),
              torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0])],
    "elu": [kink, kink],
    "selu": [kink],
    "hardsigmoid": [torch.tensor([-4.0, -3.0, -2.9, 0.0, 2.9, 3.0, 4.0])],
}
new_shapes = dict(shapes, odd=(3, 5, 7))
for name, variants in new_ops.items():
    for v, (fn, low, high) in enumerate(variants):
        for sname, shape in new_shapes.items():
            fx.case("%s.%d.%s" % (name, v, sname), fn, [fx.rand(*shape, low=low, high=high)])
        fx.case("%s.%d.transposed" % (name, v), lambda x, fn=fn: fn(x.t()),
                [fx.rand(4, 3, low=low, high=high)])
        fx.case("%s.%d.edge" % (name, v), fn, [new_edges[name][v]])

# clg_bias_activation with the activations added to clg_activation later
# (ELU with alpha 1), drawn last for the same reason.
for name, fn in {"elu": F.elu, "selu": F.selu, "hardsigmoid": F.hardsigmoid}.items():
    fx.case("bias_act.%s" % name, lambda x, b, fn=fn: fn(x + b),
            [fx.rand(5, 7, low=-2, high=2), fx.rand(7, low=-1, high=1)], [True, True])
fx.save()
