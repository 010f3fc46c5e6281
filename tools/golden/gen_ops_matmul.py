#!/usr/bin/python3
"""Golden values for ops/matmul.c and ops/shape.c: products (plain,
transposed operands, batched) and the view ops."""
import torch

from common import Fixture

fx = Fixture("ops_matmul", seed=2)
fx.case("mm", torch.matmul, [fx.rand(3, 4), fx.rand(4, 5)])
fx.case("mm_ta", lambda a, b: a.t() @ b, [fx.rand(4, 3), fx.rand(4, 5)])
fx.case("mm_tb", lambda a, b: a @ b.t(), [fx.rand(3, 4), fx.rand(5, 4)])
fx.case("mm_tab", lambda a, b: a.t() @ b.t(), [fx.rand(4, 3), fx.rand(5, 4)])
fx.case("mm_outer", torch.matmul, [fx.rand(7, 1), fx.rand(1, 6)])
fx.case("mm_dot", torch.matmul, [fx.rand(1, 9), fx.rand(9, 1)])
fx.case("bmm", torch.matmul, [fx.rand(2, 3, 4), fx.rand(2, 4, 5)])
fx.case("bmm_tb", lambda a, b: a @ b.transpose(1, 2), [fx.rand(3, 2, 4), fx.rand(3, 5, 4)])
fx.save()

fx = Fixture("ops_shape", seed=3)
fx.case("transpose", lambda a: a.transpose(0, 2) * 1.0, [fx.rand(2, 3, 4)])
fx.case("reshape", lambda a: a.reshape(4, -1), [fx.rand(2, 3, 4)])
fx.case("reshape_t", lambda a: a.t().reshape(-1), [fx.rand(3, 5)])
fx.save()
