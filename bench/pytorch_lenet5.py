#!/usr/bin/python3
"""bench/pytorch_lenet5.py: the PyTorch side of bench/run.sh for LeNet-5.

Trains the LeNet-5 of clgrad-bench (zoo/lenet5.c: conv5x5 6 pad 2, max pool,
conv5x5 16, max pool, fc 120-84-10, ReLU; Adam lr 1e-3, batch 64,
shuffled, the loss read every step) for one epoch of Fashion-MNIST on one CPU
thread (--threads N: N) and prints the seconds it took. Without PyTorch it prints a "skipped"
line and exits 0, so bench/run.sh still runs on machines without it. The
data loading and the epoch are bench/torch_epoch.py's.

usage: /usr/bin/python3 bench/pytorch_lenet5.py [DATA_DIR] [--threads N] [--samples N]
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
        torch.nn.Unflatten(1, (1, 28, 28)),
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(),
        torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))


if __name__ == "__main__":
    run(model, 64, "pytorch_lenet5")
