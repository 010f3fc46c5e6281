#!/usr/bin/python3
"""Golden values for ops/unary.c: neg, exp, log, sqrt, abs, pow, affine.

Cases are "<op>.<variant>.<shape>"; the variants (parameters and input
ranges) are listed in the same order as in tests/ops/test_unary.c. Shapes:
rank 0 to 3, a transposed input (the op applied to x.t()), and for ops with a
kink an "edge" case whose inputs sit on it."""
import torch

from common import Fixture

fx = Fixture("ops_unary", seed=2)

# op -> [(function, low, high)], one entry per variant
ops = {
    "neg": [(torch.neg, -2, 2)],
    "exp": [(torch.exp, -2, 2)],
    "log": [(torch.log, 0.2, 3)],
    "sqrt": [(torch.sqrt, 0.2, 3)],
    "abs": [(torch.abs, -2, 2)],
    "pow": [(lambda x, p=p: torch.pow(x, p), low, high)
            for p, low, high in ((2.0, -2, 2), (3.0, -2, 2), (0.5, 0.3, 3),
                                 (-1.5, 0.5, 2.5), (0.0, -2, 2))],
    "affine": [(lambda x: x * -1.0 + 1.0, -2, 2), (lambda x: x * 2.5 - 0.3, -2, 2)],
}
# inputs on the kinks: |x| and x^p at 0 (p = 0.5 and -1.5 stay in their domain)
edges = {
    "abs": [torch.tensor([-1.5, 0.0, 0.0, 2.0])],
    "pow": [torch.tensor([-1.0, 0.0, 0.0, 2.0]), torch.tensor([-1.0, 0.0, 0.0, 2.0]),
            torch.tensor([0.25, 1.0, 4.0]), torch.tensor([0.25, 1.0, 4.0]),
            torch.tensor([-2.0, 0.0, 0.0, 3.0])],
}
shapes = {"scalar": (), "vector": (5,), "matrix": (3, 4), "rank3": (2, 3, 4)}

for name, variants in ops.items():
    for v, (fn, low, high) in enumerate(variants):
        for sname, shape in shapes.items():
            fx.case("%s.%d.%s" % (name, v, sname), fn, [fx.rand(*shape, low=low, high=high)])
        fx.case("%s.%d.transposed" % (name, v), lambda x, fn=fn: fn(x.t()),
                [fx.rand(4, 3, low=low, high=high)])
        if name in edges:
            fx.case("%s.%d.edge" % (name, v), fn, [edges[name][v]])
fx.save()
