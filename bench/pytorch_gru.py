#!/usr/bin/python3
"""bench/pytorch_gru.py: the PyTorch side of `clgrad train gru`.

torch.nn.GRU(28, 128, batch_first=True) over the 28 rows of each
Fashion-MNIST image, its last hidden state into a linear layer to 10 logits,
as zoo/recurrent.c builds the model; trained as `clgrad train gru` trains it
by default: batches of 128, shuffled, mean cross-entropy, Adam at lr 5e-3
falling to 0 along a half cosine over the run's steps, the loss read every
step. Prints, per epoch, the training seconds and the test accuracy, then a
`result pytorch_gru threads=... epoch_seconds=...` line (the mean over the
epochs). Without PyTorch it prints a "skipped" line and exits 0.

usage: python3 bench/pytorch_gru.py [--epochs N] [--threads N] [--lr X] [DATA_DIR]
"""
import argparse
import math
import os
import sys
import time

try:
    import torch
except ImportError:
    print("skipped: PyTorch not installed (Debian: apt-get install python3-torch)")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_epoch import DATA_DIR, read_idx, training_set  # noqa: E402

HIDDEN, BATCH, STEPS, CLASSES = 128, 128, 28, 10


class Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(STEPS, HIDDEN, batch_first=True)
        self.fc1 = torch.nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        _, h_n = self.gru(x.view(-1, STEPS, 784 // STEPS))
        return self.fc1(h_n[0])


def test_set(data_dir):
    images = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte"))
    x = torch.from_numpy(images.reshape(-1, 784).astype("float32") / 255.0)
    return x, torch.from_numpy(labels.astype("int64"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("data_dir", nargs="?", default=DATA_DIR)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = training_set(args.data_dir)
    x_test, y_test = test_set(args.data_dir)
    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = (x.shape[0] + BATCH - 1) // BATCH
    total = steps_per_epoch * args.epochs
    print(f"PyTorch {torch.__version__}, {args.threads} thread(s): GRU 28x28-{HIDDEN}-{CLASSES}, "
          f"batch {BATCH}, Adam lr {args.lr} (cosine), {args.epochs} epoch(s)")
    step, times = 0, []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(x.shape[0])
        for first in range(0, x.shape[0], BATCH):
            for group in opt.param_groups:
                group["lr"] = args.lr * 0.5 * (1.0 + math.cos(math.pi * step / total))
            index = order[first:first + BATCH]
            loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
            step += 1
        times.append(time.perf_counter() - start)
        with torch.no_grad():
            correct = sum(int((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum())
                          for i in range(0, x_test.shape[0], 1000))
        print(f"epoch {epoch + 1}: {times[-1]:.1f} s, test accuracy "
              f"{100.0 * correct / x_test.shape[0]:.2f}%", flush=True)
    print(f"result pytorch_gru threads={args.threads} "
          f"epoch_seconds={sum(times) / len(times):.2f}")


if __name__ == "__main__":
    main()
