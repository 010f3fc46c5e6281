#!/usr/bin/env python3
"""bench/tinygrad_lenet5.py: clgrad-bench's LeNet-5 (zoo/lenet5.c: conv5x5 6 pad 2,
max pool, conv5x5 16, max pool, fc 120-84-10, ReLU; Adam lr 1e-3, batch 64, the
loss read every step) in tinygrad, on the OpenCL device of DEV=CL (bench/run.sh
sets it: PoCL's CPU device, the one clgrad runs on). Times --steps steps
(default 100) after the TinyJit warm-up (bench/tinygrad_steps.py). Without
tinygrad it prints a "skipped" line and exits 0.

usage: DEV=CL python3 bench/tinygrad_lenet5.py [DATA_DIR] [--steps N]
"""
import sys

try:
    from tinygrad import nn
except ImportError:
    print("skipped: tinygrad not installed (pip install tinygrad==0.14.0)")
    sys.exit(0)

from tinygrad_steps import run


class LeNet5:
    def __init__(self):
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1, self.f2, self.f3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def __call__(self, x):
        x = self.c1(x.reshape(-1, 1, 28, 28)).relu().max_pool2d(2)
        x = self.c2(x).relu().max_pool2d(2)
        x = self.f1(x.flatten(1)).relu()
        x = self.f2(x).relu()
        return self.f3(x)


if __name__ == "__main__":
    run(LeNet5(), 64, "tinygrad_lenet5")
