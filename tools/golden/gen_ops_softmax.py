#!/usr/bin/python3
"""Golden values for ops/softmax.c: softmax and log_softmax along an axis,
ranks 1 to 4 and negative axes. The (shape, axis) table is repeated in
tests/ops/test_softmax.c."""
import torch

from common import Fixture

fx = Fixture("ops_softmax", seed=4)

CASES = {
    "r1_a0": ((6,), 0),
    "r2_a1": ((4, 5), 1),
    "r2_a0": ((4, 5), 0),
    "r3_a1": ((2, 3, 4), 1),
    "r3_am3": ((2, 3, 4), -3),
    "r4_am1": ((2, 3, 2, 3), -1),
    "r4_a2": ((2, 3, 2, 3), 2),
}
OPS = {"softmax": torch.softmax, "log_softmax": torch.log_softmax}
for op, fn in OPS.items():
    for case, (shape, axis) in CASES.items():
        # spread of 10 so the maximum matters (exp differs by e^10)
        x = fx.rand(*shape, low=-5, high=5)
        fx.case("%s.%s" % (op, case), lambda t, fn=fn, a=axis: fn(t, a), [x])
fx.save()
