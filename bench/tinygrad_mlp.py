#!/usr/bin/env python3
"""bench/tinygrad_mlp.py: clgrad-bench's MLP (784-256-128-10, ReLU, Adam lr 1e-3,
batch 128, the loss read every step) in tinygrad, on the OpenCL device of DEV=CL
(bench/run.sh sets it: PoCL's CPU device, the one clgrad runs on). Times --steps
steps (default 100) after the TinyJit warm-up (bench/tinygrad_steps.py). Without
tinygrad it prints a "skipped" line and exits 0.

usage: DEV=CL python3 bench/tinygrad_mlp.py [DATA_DIR] [--steps N]
"""
import sys

try:
    from tinygrad import nn
except ImportError:
    print("skipped: tinygrad not installed (pip install tinygrad==0.14.0)")
    sys.exit(0)

from tinygrad_steps import run


class MLP:
    def __init__(self):
        self.layers = [nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)]

    def __call__(self, x):
        x = self.layers[0](x).relu()
        x = self.layers[1](x).relu()
        return self.layers[2](x)


if __name__ == "__main__":
    run(MLP(), 128, "tinygrad_mlp")
