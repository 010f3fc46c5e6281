#!/usr/bin/python3
"""bench/pytorch_mlp.py: the PyTorch side of bench/run.sh.

Trains the MLP of clgrad-bench (784-256-128-10, ReLU, Adam lr 1e-3, batch 128,
shuffled, the loss read every step) for one epoch of Fashion-MNIST on one CPU
thread (--threads N: N) and prints the seconds it took. Without PyTorch it prints a "skipped"
line and exits 0, so bench/run.sh still runs on machines without it. The
data loading and the epoch are bench/torch_epoch.py's.

usage: /usr/bin/python3 bench/pytorch_mlp.py [DATA_DIR] [--threads N] [--samples N]
      (any python3 with torch: bench/run.sh also runs it in a venv with PyTorch 2.15)
"""

import sys

try:
    import torch
except ImportError:
    print("skipped: PyTorch not installed (Debian: apt-get install python3-torch)")
    sys.exit(0)

from torch_epoch import run


def model():
    return torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))


if __name__ == "__main__":
    run(model, 128, "pytorch")
