#!/usr/bin/python3
"""Golden values for ops/loss.c: mse, bce, bce with logits and cross-entropy
with each reduction (mean, sum, none), over shapes of rank 1, 3 and 4.
Case names: <loss>.<shape>.<reduction>."""
import torch
import torch.nn.functional as F

from common import Fixture

fx = Fixture("ops_loss", seed=5)

REDUCTIONS = ("mean", "sum", "none")
SHAPES = {"r1": (7,), "r3": (2, 3, 4), "r4": (2, 1, 3, 2)}

for red in REDUCTIONS:
    for sname, shape in SHAPES.items():
        x, t = fx.rand(*shape, low=-2, high=2), fx.rand(*shape, low=-2, high=2)
        fx.case("mse.%s.%s" % (sname, red), lambda a, b, r=red: F.mse_loss(a, b, reduction=r),
                [x, t])
        # probabilities away from 0 and 1; soft targets in [0, 1]
        p, t = fx.rand(*shape, low=0.05, high=0.95), fx.rand(*shape, low=0, high=1)
        fx.case("bce.%s.%s" % (sname, red),
                lambda a, b, r=red: F.binary_cross_entropy(a, b, reduction=r), [p, t],
                grad=[True, False])
        # logits of both signs, large enough for the stable form to matter
        z, t = fx.rand(*shape, low=-30, high=30), fx.rand(*shape, low=0, high=1)
        fx.case("bce_logits.%s.%s" % (sname, red),
                lambda a, b, r=red: F.binary_cross_entropy_with_logits(a, b, reduction=r), [z, t],
                grad=[True, False])

# cross-entropy: (N, C) logits, int32 labels
CE_SHAPES = {"n5c4": (5, 4), "n1c10": (1, 10), "n8c3": (8, 3)}
for red in REDUCTIONS:
    for sname, (n, c) in CE_SHAPES.items():
        logits = fx.rand(n, c, low=-4, high=4)
        labels = torch.randint(0, c, (n,), generator=fx.gen, dtype=torch.int32)
        fx.case("ce.%s.%s" % (sname, red),
                lambda a, y, r=red: F.cross_entropy(a, y.long(), reduction=r), [logits, labels])
fx.save()
