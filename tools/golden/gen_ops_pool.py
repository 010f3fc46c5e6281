#!/usr/bin/python3
"""Golden values for ops/pool.c: F.max_pool2d and F.avg_pool2d forward and
backward over odd shapes, with ceil_mode, dilation (max only: avg_pool2d has
none) and count_include_pad=False. Each case also stores <case>.params =
[kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
dilation_w, ceil_mode, count_include_pad] (int32), which the test passes on."""
import torch
import torch.nn.functional as F

from common import Fixture

fx = Fixture("ops_pool", seed=4)
# name: (x shape, kernel, stride, padding, dilation, ceil_mode, count_include_pad)
cases = {
    "k2": ((2, 3, 8, 6), (2, 2), (2, 2), (0, 0), (1, 1), False, True),
    "k3s2p1": ((1, 3, 7, 5), (3, 3), (2, 2), (1, 1), (1, 1), False, True),
    "rect": ((2, 2, 7, 5), (3, 2), (1, 2), (1, 1), (1, 1), False, True),
    "overlap": ((1, 5, 6, 6), (3, 3), (1, 1), (0, 0), (1, 1), False, True),
    "k5s2p2": ((1, 1, 9, 7), (5, 5), (2, 3), (2, 2), (1, 1), False, True),
    # ceil_mode adds a clipped last row and column
    "ceil_k2": ((2, 2, 7, 5), (2, 2), (2, 2), (0, 0), (1, 1), True, True),
    "ceil_k3p1": ((1, 3, 6, 8), (3, 3), (2, 2), (1, 1), (1, 1), True, True),
    "exclude_p1": ((1, 3, 7, 5), (3, 3), (2, 2), (1, 1), (1, 1), False, False),
    "ceil_excl": ((2, 2, 6, 8), (3, 2), (2, 3), (1, 1), (1, 1), True, False),
    "dil2": ((2, 2, 9, 8), (3, 3), (1, 1), (0, 0), (2, 2), False, True),
    "dil2_p1": ((1, 2, 9, 7), (3, 2), (2, 1), (1, 1), (2, 3), False, True),
    "dil_ceil": ((1, 3, 8, 10), (3, 3), (2, 3), (1, 1), (2, 2), True, True),
    "dil_disjoint": ((2, 2, 11, 10), (2, 2), (3, 3), (0, 1), (2, 2), True, True),
}
for kind in ("max", "avg"):
    for name, (xs, k, s, p, d, ceil, include) in cases.items():
        if kind == "avg" and d != (1, 1):
            continue
        case = "%s.%s" % (kind, name)
        if kind == "max":
            fn = lambda x: F.max_pool2d(x, k, s, p, d, ceil)
        else:
            fn = lambda x: F.avg_pool2d(x, k, s, p, ceil, include)
        out = fx.case(case, fn, [fx.rand(*xs)])
        # ceil_mode cases must add a window, or they test nothing new
        if ceil:
            floor = [(xs[2 + a] + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in (0, 1)]
            assert list(out.shape[2:]) != floor, case
        fx.tensors[case + ".params"] = torch.tensor(
            list(k + s + p + d) + [int(ceil), int(include)], dtype=torch.int32)
fx.save()
