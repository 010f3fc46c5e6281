#!/usr/bin/python3
"""bench/pytorch_lstm.py: the PyTorch side of bench/lstm_bench.c.

torch.nn.LSTM(28, 128) on one CPU thread (--threads N: N), batch 64, sequence
lengths 28, 100 and 400 (--lengths 28,100: those); a step is forward, a linear layer on the last hidden state, mean
cross-entropy, backward and an Adam update, as in lstm-bench. Prints seconds
per step, sequences/s, a `result pytorch_lstm T=... seconds_per_step=...` line
per length for bench/run.sh, and the 400/100 time ratio when both ran. Without
PyTorch it prints a "skipped" line and exits 0.

usage: /usr/bin/python3 bench/pytorch_lstm.py [reps] [--threads N] [--lengths T,T,...]
"""
import sys
import time

try:
    import torch
except ImportError:
    print("skipped: PyTorch not installed (Debian: apt-get install python3-torch)")
    sys.exit(0)

HIDDEN, BATCH, INPUT, CLASSES = 128, 64, 28, 10


def main():
    args = sys.argv[1:]
    threads, lengths = 1, (28, 100, 400)
    for flag in ("--threads", "--lengths"):
        if flag in args:
            at = args.index(flag)
            if flag == "--threads":
                threads = int(args[at + 1])
            else:
                lengths = tuple(int(t) for t in args[at + 1].split(","))
            del args[at:at + 2]
    reps = int(args[0]) if args else 3
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(INPUT, HIDDEN)
    fc = torch.nn.Linear(HIDDEN, CLASSES)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(fc.parameters()), lr=1e-3)
    y = torch.arange(BATCH) % CLASSES
    print("torch.nn.LSTM training step, hidden %d, batch %d, input %d, %d thread(s) "
          "(Adam; %d timed steps each)" % (HIDDEN, BATCH, INPUT, threads, reps))
    seconds = {}
    for T in lengths:
        x = torch.rand(T, BATCH, INPUT)

        def step():
            opt.zero_grad()
            _, (h_n, _) = lstm(x)
            loss = torch.nn.functional.cross_entropy(fc(h_n[0]), y)
            loss.backward()
            opt.step()
            return loss.item()

        step()  # warm-up
        start = time.perf_counter()
        for _ in range(reps):
            step()
        seconds[T] = (time.perf_counter() - start) / reps
        print("T = %3d: %8.3f s per step, %8.1f sequences/s" % (T, seconds[T], BATCH / seconds[T]))
        print("result pytorch_lstm T=%d seconds_per_step=%.5f threads=%d version=%s"
              % (T, seconds[T], threads, torch.__version__))
    if 100 in seconds and 400 in seconds:
        print("time ratio T=400 / T=100: %.2f (linear in T: 4.00)" % (seconds[400] / seconds[100]))


if __name__ == "__main__":
    main()
