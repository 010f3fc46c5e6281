#!/usr/bin/python3
"""bench/table.py: the comparison table of bench/run.sh, from its results file.

Each line of the file is `SIDE result ...` as a benchmark printed it, SIDE one of
clgrad, torch-1, torch-2 (PyTorch from the venv, 1 and 2 threads), debian-1
(Debian's PyTorch, 1 thread), tinygrad and peak (peak-bench, run once), from
several interleaved rounds. Every figure becomes samples/s (or seconds per step
for the LSTM) and each side keeps its best round: slower rounds measure other
load on a shared machine. Prints a
Markdown table: model, clgrad, PyTorch 1 and 2 threads, tinygrad, clgrad time /
best PyTorch time (the last column the issue's target), and Debian's PyTorch
when it ran; then clgrad's GFLOP/s and share of the device's FMA peak per
model, the peak being what bench/peak_bench.c measured (its `result peak
gflops=...` line), not a figure assumed from a data sheet. Standard library only.

usage: python3 bench/table.py RESULTS [TORCH_VERSION]
"""
import re
import sys

MODELS = [  # key, label, unit: rate (samples/s, higher is better) or step (s, lower)
    ("mlp", "MLP 784-256-128-10, batch 128", "rate"),
    ("lenet5", "LeNet-5, batch 64", "rate"),
    ("fraud", "fraud autoencoder, batch 2048", "rate"),
    ("lstm28", "LSTM 28->128, batch 64, T = 28 (s per step)", "step"),
    ("lstm100", "LSTM 28->128, batch 64, T = 100 (s per step)", "step"),
]


# FLOPs of one training sample (one sequence for the LSTM, per time step):
# 2 per multiply-add of the GEMMs (and convolutions) of forward, the weight
# gradients and the input gradients, the first layer's input gradient left
# out (no input needs one); elementwise work, the loss and Adam not counted.
#   MLP: 784*256 + 256*128 + 128*10 = 234,752 MACs forward, as many for dW,
#        256*128 + 128*10 = 34,048 for dX: 503,552 MACs.
#   LeNet-5: conv1 6*25*784 = 117,600, conv2 16*150*100 = 240,000, fc 400*120 +
#        120*84 + 84*10 = 58,920: 416,520 forward, 416,520 dW, 298,920 dX.
#   autoencoder: 30*100 + 100*100 + 100*15 + 15*100 + 100*100 + 100*30 = 29,000
#        forward, 29,000 dW, 26,000 dX.
#   LSTM per step of one sequence: x and h projections 28*512 + 128*512 =
#        79,872 forward, 79,872 dW, 65,536 dh (x needs none).
FLOP_PER_SAMPLE = {"mlp": 2 * 503552, "lenet5": 2 * (416520 * 2 + 298920),
                   "fraud": 2 * 84000, "lstm28": 2 * 225280 * 64 * 28,
                   "lstm100": 2 * 225280 * 64 * 100}


def fields(line):
    return dict(re.findall(r"(\w+)=([^\s]+)", line))


def figure(words, f):
    """(model key, value) of one result line, or None."""
    tag = words[1]
    if tag in ("mlp", "lenet5", "tinygrad_mlp", "tinygrad_lenet5") and "samples_per_second" in f:
        return tag.replace("tinygrad_", ""), float(f["samples_per_second"])
    if tag in ("fraud", "pytorch", "pytorch_lenet5", "pytorch_autoencoder") and "epoch_seconds" in f:
        key = {"fraud": "fraud", "pytorch": "mlp", "pytorch_lenet5": "lenet5",
               "pytorch_autoencoder": "fraud"}[tag]
        return key, float(f["samples"]) / float(f["epoch_seconds"])
    if tag in ("lstm", "pytorch_lstm") and f.get("T") in ("28", "100"):
        return "lstm" + f["T"], float(f["seconds_per_step"])
    return None


def main():
    best = {}
    versions = {}
    peak = None
    with open(sys.argv[1]) as results:
        for line in results:
            words = line.split()
            if len(words) < 3 or words[1] != "result":
                continue
            side, f = words[0], fields(line)
            if words[2] == "peak" and "gflops" in f:
                peak = max(peak or 0.0, float(f["gflops"]))
                continue
            got = figure(words[1:], f)
            if got is None:
                continue
            if "version" in f:
                versions[side] = f["version"].split("+")[0]
            key, value = got
            unit = next(u for k, _, u in MODELS if k == key)
            old = best.get((side, key))
            if old is None or (value > old if unit == "rate" else value < old):
                best[(side, key)] = value

    def show(side, key, unit):
        v = best.get((side, key))
        if v is None:
            return "–"
        return f"{v:,.0f}" if unit == "rate" else f"{v:.4f}"

    torch_v = versions.get("torch-1", versions.get("torch-2", "?"))
    debian = any(s == "debian-1" for s, _ in best)
    head = ["model", "clgrad samples/s", f"PyTorch {torch_v}, 1 thread", "2 threads",
            "tinygrad, same OpenCL device", f"clgrad time / best PyTorch {torch_v} time"]
    if debian:
        head.append(f"PyTorch {versions.get('debian-1', '?')} (Debian), 1 thread: "
                    "clgrad time / its time")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for key, label, unit in MODELS:
        row = [label] + [show(s, key, unit) for s in ("clgrad", "torch-1", "torch-2", "tinygrad")]
        c = best.get(("clgrad", key))
        peers = [best[(s, key)] for s in ("torch-1", "torch-2") if (s, key) in best]
        if c is None or not peers:
            row.append("–")
        elif unit == "rate":
            row.append(f"**{max(peers) / c:.2f}**")
        else:
            row.append(f"**{c / min(peers):.2f}**")
        if debian:
            d = best.get(("debian-1", key))
            if d is None or c is None:
                row.append("–")
            else:
                ratio = d / c if unit == "rate" else c / d
                row.append(f"{show('debian-1', key, unit)}: {ratio:.2f}")
        print("| " + " | ".join(row) + " |")
    print()
    if peak:
        print(f"clgrad's step as a share of the device's FMA peak ({peak:.0f} GFLOP/s, "
              "measured by peak-bench; GEMM and convolution FLOPs only, bench/table.py says "
              "how they are counted):")
    else:
        print("clgrad's step in GFLOP/s (no peak-bench result, so no share of the peak; "
              "GEMM and convolution FLOPs only, bench/table.py says how they are counted):")
    for key, label, unit in MODELS:
        c = best.get(("clgrad", key))
        if c is None:
            continue
        gflops = FLOP_PER_SAMPLE[key] * (c if unit == "rate" else 1.0 / c) / 1e9
        share = f", {100 * gflops / peak:.0f}%" if peak else ""
        print(f"  {label}: {gflops:.1f} GFLOP/s{share}")


if __name__ == "__main__":
    main()
