#!/usr/bin/python3
"""Golden values for clg_conv_transpose2d (ops/conv.c): F.conv_transpose2d
forward and backward with weight (C_in, C_out, kh, kw) over stride, padding,
output padding and dilation, batch 1 and 2, with and without bias, and the
DCGAN shapes (4x4 kernels, stride 2, padding 1). Each case also stores
<case>.params = [stride_h, stride_w, pad_h, pad_w, output_pad_h,
output_pad_w, dilation_h, dilation_w] (int32), which the test passes on.
The cases go into tests/golden/ops_conv_transpose.safetensors."""
import torch
import torch.nn.functional as F

from common import Fixture

fx = Fixture("ops_conv_transpose", seed=5)
# name: (x shape, weight shape, bias, stride, padding, output padding, dilation)
cases = {
    "basic": ((2, 3, 4, 5), (3, 2, 3, 3), True, (1, 1), (0, 0), (0, 0), (1, 1)),
    "stride2": ((1, 2, 3, 4), (2, 3, 3, 3), True, (2, 2), (0, 0), (0, 0), (1, 1)),
    "dcgan": ((2, 4, 3, 3), (4, 2, 4, 4), False, (2, 2), (1, 1), (0, 0), (1, 1)),
    "outpad": ((2, 2, 3, 4), (2, 3, 3, 2), True, (3, 2), (1, 0), (2, 1), (1, 1)),
    "dilation": ((1, 3, 4, 3), (3, 2, 2, 3), True, (1, 2), (1, 1), (0, 1), (2, 2)),
    "pointwise": ((2, 3, 4, 4), (3, 5, 1, 1), True, (1, 1), (0, 0), (0, 0), (1, 1)),
}
for name, (xs, ws, bias, stride, pad, outpad, dil) in cases.items():
    x = fx.rand(*xs)
    w = fx.rand(*ws, low=-0.5, high=0.5)
    inputs = [x, w] + ([fx.rand(ws[1])] if bias else [])
    fx.case(name, lambda x, w, b=None: F.conv_transpose2d(x, w, b, stride, pad, outpad, 1, dil),
            inputs)
    fx.tensors[name + ".params"] = torch.tensor(list(stride + pad + outpad + dil),
                                                dtype=torch.int32)
fx.save()
