#!/usr/bin/python3
"""Golden values for ops/pool.c: F.max_pool2d and F.avg_pool2d
(count_include_pad=True) forward and backward over odd shapes. Each case also
stores <case>.params = [kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w]
(int32), which the test passes on."""
import torch
import torch.nn.functional as F

from common import Fixture

fx = Fixture("ops_pool", seed=4)
# name: (x shape, kernel, stride, padding)
cases = {
    "k2": ((2, 3, 8, 6), (2, 2), (2, 2), (0, 0)),
    "k3s2p1": ((1, 3, 7, 5), (3, 3), (2, 2), (1, 1)),
    "rect": ((2, 2, 7, 5), (3, 2), (1, 2), (1, 1)),
    "overlap": ((1, 5, 6, 6), (3, 3), (1, 1), (0, 0)),
    "k5s2p2": ((1, 1, 9, 7), (5, 5), (2, 3), (2, 2)),
}
pools = {"max": F.max_pool2d, "avg": F.avg_pool2d}
for kind, fn in pools.items():
    for name, (xs, k, s, p) in cases.items():
        case = "%s.%s" % (kind, name)
        fx.case(case, lambda x: fn(x, k, s, p), [fx.rand(*xs)])
        fx.tensors[case + ".params"] = torch.tensor(list(k + s + p), dtype=torch.int32)
fx.save()
