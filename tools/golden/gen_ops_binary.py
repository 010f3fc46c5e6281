#!/usr/bin/python3
"""Golden values for ops/binary.c: add, sub, mul, div, pow over broadcast shapes."""
import torch

from common import Fixture

fx = Fixture("ops_binary", seed=1)
ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
# pow after the others, so that their cases keep their random draws
shapes = {
    "same": ((3, 4), (3, 4)),
    "row": ((3, 4), (4,)),
    "col": ((2, 3, 4), (3, 1)),
    "scalar": ((2, 5), (1,)),
    "both": ((2, 1, 4), (3, 1)),
}
for name, fn in ops.items():
    for sname, (sa, sb) in shapes.items():
        a = fx.rand(*sa, low=-2, high=2)
        b = fx.rand(*sb, low=0.5, high=2)  # away from 0 for div
        fx.case("%s.%s" % (name, sname), fn, [a, b])
for sname, (sa, sb) in shapes.items():
    a = fx.rand(*sa, low=0.1, high=2)  # a positive base: real results
    b = fx.rand(*sb, low=-1.5, high=2)
    fx.case("pow.%s" % sname, torch.pow, [a, b])
# pow's own: the (3,1,5) ^ (4,5), a rank-0 exponent, and odd sizes
# (broadcast, and same-shaped for the _same kernels)
pow_shapes = {
    "wide": ((3, 1, 5), (4, 5)),
    "rank0": ((2, 7), ()),
    "odd": ((5, 7, 9), (7, 1)),
    "odd_same": ((3, 67), (3, 67)),
}
for sname, (sa, sb) in pow_shapes.items():
    a = fx.rand(*sa, low=0.1, high=2)
    b = fx.rand(*sb, low=-1.5, high=2)
    fx.case("pow.%s" % sname, torch.pow, [a, b])
fx.save()
