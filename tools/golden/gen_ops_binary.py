#!/usr/bin/python3
"""Golden values for ops/binary.c: add, sub, mul, div over broadcast shapes."""
import torch

from common import Fixture

fx = Fixture("ops_binary", seed=1)
ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
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
fx.save()
