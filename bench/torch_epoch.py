"""bench/torch_epoch.py: what bench/pytorch_mlp.py and bench/pytorch_lenet5.py
share: Debian's Fashion-MNIST as tensors, the command line
([DATA_DIR] [--threads N] [--samples N]) and one timed epoch of Adam on N CPU
threads (default 1, torch.set_num_threads), the loss read every step as
clgrad-bench reads it. Not a script of its own; the two import it from beside
them."""
import os
import sys
import time

import numpy as np
import torch

from idx import DATA_DIR, read_idx


def training_set(data_dir):
    """(x (60000, 784) in [0, 1], y (60000,)); random data of the same shape
    when the folder has no Fashion-MNIST."""
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte"))
    if images is None or labels is None:
        print(f"(no Fashion-MNIST in {data_dir}: random data of the same shape)")
        return torch.rand(60000, 784), torch.arange(60000) % 10
    x = torch.from_numpy(images.reshape(-1, 784).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def arguments():
    """(data folder, threads, samples) from sys.argv: [DATA_DIR] [--threads N]
    [--samples N]; samples 0 means the whole training set."""
    data_dir, threads, samples = DATA_DIR, 1, 0
    args = sys.argv[1:]
    while args:
        arg = args.pop(0)
        if arg in ("--threads", "--samples") and args:
            value = int(args.pop(0))
            if arg == "--threads":
                threads = value
            else:
                samples = value
        else:
            data_dir = arg
    return data_dir, threads, samples


def run(make_model, batch, tag):
    """One shuffled epoch of make_model() at `batch` (Adam lr 1e-3) on the
    command line's folder (default DATA_DIR), or its first --samples samples,
    after one warm-up step (PyTorch's first step allocates and picks its
    kernels; clgrad-bench's epoch also follows warm-up steps); prints the
    seconds and a `result <tag> epoch_seconds=... samples=... threads=...
    version=...` line for bench/run.sh."""
    data_dir, threads, samples = arguments()
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    x, y = training_set(data_dir)
    if samples:
        x, y = x[:samples], y[:samples]
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    warm = loss_fn(model(x[:batch]), y[:batch])
    opt.zero_grad()
    warm.backward()
    opt.step()
    warm.item()

    start = time.perf_counter()
    order = torch.randperm(x.shape[0])
    loss_value = 0.0
    for first in range(0, x.shape[0], batch):
        index = order[first:first + batch]
        loss = loss_fn(model(x[index]), y[index])
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_value = loss.item()
    seconds = time.perf_counter() - start
    print(f"PyTorch {torch.__version__}, {threads} thread(s): one epoch of {x.shape[0]} samples "
          f"in {seconds:.2f} s ({x.shape[0] / seconds:.0f} samples/s), final loss {loss_value:.4f}")
    print(f"result {tag} epoch_seconds={seconds:.4f} samples={x.shape[0]} threads={threads} "
          f"version={torch.__version__}")
