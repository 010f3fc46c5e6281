#!/usr/bin/python3
"""bench/pytorch_lenet5.py: the PyTorch side of bench/run.sh for LeNet-5.

Trains the LeNet-5 of clgrad-bench (zoo/lenet5.c: conv5x5 6 pad 2, max pool,
conv5x5 16, max pool, fc 120-84-10, ReLU; Adam lr 1e-3, batch 64,
shuffled, the loss read every step) for one epoch of Fashion-MNIST on one CPU
thread and prints the seconds it took. Without PyTorch it prints a "skipped"
line and exits 0, so bench/run.sh still runs on machines without it.

usage: /usr/bin/python3 bench/pytorch_lenet5.py [DATA_DIR]
"""
import gzip
import os
import struct
import sys
import time

try:
    import torch
except ImportError:
    print("skipped: PyTorch not installed (Debian: apt-get install python3-torch)")
    sys.exit(0)

import numpy as np

BATCH = 64


def read_idx(path):
    """An IDX file of unsigned bytes, gzipped or plain, as a numpy array."""
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(candidate, "rb") as f:
                data = f.read()
            rank = data[3]
            dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)
    return None


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    torch.set_num_threads(1)
    torch.manual_seed(42)
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte"))
    if images is None or labels is None:
        print(f"(no Fashion-MNIST in {data_dir}: random data of the same shape)")
        x = torch.rand(60000, 784)
        y = torch.arange(60000) % 10
    else:
        x = torch.from_numpy(images.reshape(-1, 784).astype(np.float32) / 255.0)
        y = torch.from_numpy(labels.astype(np.int64))

    model = torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 28, 28)),
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(),
        torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    start = time.perf_counter()
    order = torch.randperm(x.shape[0])
    loss_value = 0.0
    for first in range(0, x.shape[0], BATCH):
        index = order[first:first + BATCH]
        loss = loss_fn(model(x[index]), y[index])
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_value = loss.item()
    seconds = time.perf_counter() - start
    print(f"PyTorch {torch.__version__}, 1 thread: one epoch of {x.shape[0]} samples in "
          f"{seconds:.2f} s ({x.shape[0] / seconds:.0f} samples/s), final loss {loss_value:.4f}")
    print(f"result pytorch_lenet5 epoch_seconds={seconds:.4f} samples={x.shape[0]}")


if __name__ == "__main__":
    main()
