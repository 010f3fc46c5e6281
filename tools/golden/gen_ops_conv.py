#!/usr/bin/python3
"""Golden values for ops/conv.c: F.conv2d forward and backward over odd shapes
(batch 1, non-square images, stride 2, padding 2, dilation 2, C=3 and K=5,
1x1 kernels), then the same with an activation fused (clg_conv2d_act: cases
act_<name>). Each case also stores <case>.params = [stride_h, stride_w,
pad_h, pad_w, dilation_h, dilation_w] (int32), which the test passes on."""
import torch
import torch.nn.functional as F

from common import Fixture

fx = Fixture("ops_conv", seed=3)
# name: (x shape, weight shape, bias, stride, padding, dilation)
cases = {
    "basic": ((2, 3, 7, 5), (5, 3, 3, 3), True, (1, 1), (0, 0), (1, 1)),
    "stride2_pad2": ((1, 3, 7, 5), (5, 3, 3, 3), True, (2, 2), (2, 2), (1, 1)),
    "dilation2": ((2, 3, 7, 6), (4, 3, 3, 2), False, (1, 2), (1, 1), (2, 2)),
    "pointwise": ((2, 3, 5, 4), (5, 3, 1, 1), True, (1, 1), (0, 0), (1, 1)),
    "lenet": ((2, 1, 8, 8), (6, 1, 5, 5), True, (1, 1), (2, 2), (1, 1)),
    "mixed": ((1, 2, 6, 9), (3, 2, 2, 3), True, (2, 1), (0, 2), (1, 2)),
}
for name, (xs, ws, bias, stride, pad, dil) in cases.items():
    x = fx.rand(*xs)
    w = fx.rand(*ws, low=-0.5, high=0.5)
    inputs = [x, w] + ([fx.rand(ws[0])] if bias else [])
    fx.case(name, lambda x, w, b=None: F.conv2d(x, w, b, stride, pad, dil), inputs)
    fx.tensors[name + ".params"] = torch.tensor(list(stride + pad + dil), dtype=torch.int32)
# clg_conv2d_act: stride (2, 1), padding (1, 2), a bias; drawn after the cases
# above so that their values do not change.
acts = {
    "relu": F.relu,
    "leaky_relu": lambda y: F.leaky_relu(y, 0.1),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    # added later, last, so that the cases above keep their draws
    "elu": F.elu,
    "selu": F.selu,
    "hardsigmoid": F.hardsigmoid,
}
for act, fn in acts.items():
    name = "act_" + act
    stride, pad, dil = (2, 1), (1, 2), (1, 1)
    x = fx.rand(2, 3, 7, 6)
    w = fx.rand(4, 3, 3, 2, low=-0.5, high=0.5)
    inputs = [x, w, fx.rand(4)]
    fx.case(name, lambda x, w, b, fn=fn: fn(F.conv2d(x, w, b, stride, pad, dil)), inputs)
    fx.tensors[name + ".params"] = torch.tensor(list(stride + pad + dil), dtype=torch.int32)
fx.save()
