#!/usr/bin/python3
"""Golden values for nn/linear.c: torch.nn.functional.linear (what nn.Linear's
forward is) with given weights, forward and backward. Inputs: in0 = x (N, in),
in1 = W (out, in), in2 = b (out) when the case has a bias."""
import torch.nn.functional as F

from common import Fixture

fx = Fixture("nn_linear", seed=3)
SIZES = {"small": (5, 3, 4), "wide": (8, 17, 9), "row": (1, 6, 2)}  # (N, in, out)
for name, (n, fan_in, fan_out) in SIZES.items():
    x = fx.rand(n, fan_in, low=-2, high=2)
    w = fx.rand(fan_out, fan_in)
    b = fx.rand(fan_out)
    fx.case(name + ".bias", lambda x, w, b: F.linear(x, w, b), [x, w, b])
    fx.case(name + ".nobias", lambda x, w: F.linear(x, w), [x, w])
fx.save()
