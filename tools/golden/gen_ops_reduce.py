#!/usr/bin/python3
"""Golden values for ops/reduce.c: sum, mean, max over one axis (keepdim both
ways, negative axes, ranks 1 to 4), the whole-tensor sum, mean and max, and
argmax. Case names encode what tests/ops/test_reduce.c passes:
<op>.<case> with the axis and keepdim listed in both files."""
import torch

from common import Fixture

fx = Fixture("ops_reduce", seed=3)

# case name -> (shape, axis, keepdim); the same table is in test_reduce.c
AXIS_CASES = {
    "r1_a0": ((5,), 0, False),
    "r1_a0_keep": ((5,), 0, True),
    "r2_a0": ((3, 4), 0, False),
    "r3_a1_keep": ((2, 3, 4), 1, True),
    "r3_am1": ((2, 3, 4), -1, False),
    "r4_am3_keep": ((2, 3, 2, 3), -3, True),
    "r4_a0": ((2, 3, 2, 3), 0, False),
    "r4_a3": ((2, 3, 2, 3), 3, False),
}
AXIS_OPS = {
    "sum": lambda x, a, k: torch.sum(x, a, keepdim=k),
    "mean": lambda x, a, k: torch.mean(x, a, keepdim=k),
    # random values: no ties, so torch.max's gradient is the first maximum's
    "max": lambda x, a, k: torch.max(x, a, keepdim=k).values,
    "argmax": lambda x, a, k: torch.argmax(x, a, keepdim=k).to(torch.int32),
}
for op, fn in AXIS_OPS.items():
    for case, (shape, axis, keep) in AXIS_CASES.items():
        x = fx.rand(*shape, low=-2, high=2)
        fx.case("%s.%s" % (op, case), lambda t, fn=fn, a=axis, k=keep: fn(t, a, k), [x],
                grad=[op != "argmax"])

# whole-tensor reductions; "big" (4000 elements) takes the two-stage path
ALL_SHAPES = {"r1": (7,), "r3": (2, 3, 4), "r4": (2, 3, 2, 3), "big": (40, 100)}
ALL_OPS = {"sum_all": torch.sum, "mean_all": torch.mean, "max_all": torch.max}
for op, fn in ALL_OPS.items():
    for case, shape in ALL_SHAPES.items():
        fx.case("%s.%s" % (op, case), fn, [fx.rand(*shape, low=-2, high=2)])
fx.save()
