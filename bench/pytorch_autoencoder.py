#!/usr/bin/python3
"""bench/pytorch_autoencoder.py: the PyTorch side of fraud-bench in bench/run.sh.

Trains the lecture's fraud autoencoder as clgrad does (30-100-100-15-100-100-30,
tanh after every layer but the last, loss = sum of squared reconstruction
errors, Adam lr 1e-3, batch 2048, shuffled) over 284,807 x 30 rows (the public
data set's size; uniform random values in [0, 1), like MinMax-scaled
features: the speed does not depend on the values) on one CPU thread
(--threads N: N, torch.set_num_threads), and
prints the seconds of the fastest of EPOCHS epochs (default 2), as fraud-bench
does. The loss is read once per epoch, as lecture_autoencoder_train_epoch does.
Without PyTorch it prints a "skipped" line and exits 0, so bench/run.sh still
runs on machines without it.

usage: /usr/bin/python3 bench/pytorch_autoencoder.py [EPOCHS] [--threads N]
"""
import sys
import time

try:
    import torch
except ImportError:
    print("skipped: PyTorch not installed (Debian: apt-get install python3-torch)")
    sys.exit(0)

ROWS = 284807
BATCH = 2048


def main():
    args = sys.argv[1:]
    threads = 1
    if "--threads" in args:
        at = args.index("--threads")
        threads = int(args[at + 1])
        del args[at:at + 2]
    epochs = int(args[0]) if args else 2
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x = torch.rand(ROWS, 30)
    widths = [30, 100, 100, 15, 100, 100, 30]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    best = None
    for epoch in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(ROWS)
        total = torch.zeros(())
        for first in range(0, ROWS, BATCH):
            batch = x[order[first:first + BATCH]]
            loss = torch.nn.functional.mse_loss(model(batch), batch, reduction="sum")
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach()
        mean = total.item() / ROWS
        seconds = time.perf_counter() - start
        best = seconds if best is None else min(best, seconds)
        print(f"PyTorch {torch.__version__}, {threads} thread(s): epoch of {ROWS} rows in {seconds:.2f} s "
              f"({ROWS / seconds:.0f} samples/s), mean loss {mean:.4f}")
    print(f"result pytorch_autoencoder epoch_seconds={best:.4f} samples={ROWS} threads={threads} "
          f"version={torch.__version__}")


if __name__ == "__main__":
    main()
