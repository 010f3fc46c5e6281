#!/bin/bash
# bench/run.sh: clgrad-bench, then the same MLP and LeNet-5 epochs in PyTorch, then the
# ratio of their seconds per epoch (clgrad / PyTorch; below 1 means clgrad is
# faster). POCL_AFFINITY=1 keeps PoCL's threads on separate cores.
#   bench/run.sh [BUILD_DIR] [clgrad-bench options...]     (default BUILD_DIR: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
export POCL_AFFINITY=${POCL_AFFINITY:-1}
data=${CLGRAD_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}

ninja -C "$build" bench/clgrad-bench >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== clgrad-bench =="
"$build/bench/clgrad-bench" --data "$data" "$@" | tee "$out"

echo
echo "== PyTorch (bench/pytorch_mlp.py, one thread) =="
/usr/bin/python3 "$root/bench/pytorch_mlp.py" "$data" | tee -a "$out"

clgrad_sps=$(sed -n 's/^result mlp .*samples_per_second=\([0-9.]*\).*/\1/p' "$out")
torch_line=$(grep '^result pytorch ' "$out" || true)
echo
if [ -z "$clgrad_sps" ]; then
    echo "ratio: no clgrad training figure (ran with --no-training?)"
elif [ -z "$torch_line" ]; then
    echo "ratio: skipped (no PyTorch figure)"
else
    torch_seconds=$(sed -n 's/.*epoch_seconds=\([0-9.]*\).*/\1/p' <<<"$torch_line")
    torch_samples=$(sed -n 's/.*samples=\([0-9]*\).*/\1/p' <<<"$torch_line")
    # Both as seconds for the same number of samples, whatever --quick did.
    awk -v sps="$clgrad_sps" -v ts="$torch_seconds" -v n="$torch_samples" 'BEGIN {
        cs = n / sps
        printf "seconds per epoch of %d samples: clgrad %.2f, PyTorch %.2f; clgrad/PyTorch = %.2f\n", n, cs, ts, cs / ts
    }'
fi

echo
echo "== PyTorch (bench/pytorch_lenet5.py, one thread) =="
/usr/bin/python3 "$root/bench/pytorch_lenet5.py" "$data" | tee -a "$out"
lenet_sps=$(sed -n 's/^result lenet5 .*samples_per_second=\([0-9.]*\).*/\1/p' "$out")
torch_line=$(grep '^result pytorch_lenet5 ' "$out" || true)
echo
if [ -z "$lenet_sps" ]; then
    echo "LeNet-5 ratio: no clgrad training figure (ran with --no-training?)"
elif [ -z "$torch_line" ]; then
    echo "LeNet-5 ratio: skipped (no PyTorch figure)"
else
    torch_seconds=$(sed -n 's/.*epoch_seconds=\([0-9.]*\).*/\1/p' <<<"$torch_line")
    torch_samples=$(sed -n 's/.*samples=\([0-9]*\).*/\1/p' <<<"$torch_line")
    awk -v sps="$lenet_sps" -v ts="$torch_seconds" -v n="$torch_samples" 'BEGIN {
        cs = n / sps
        printf "LeNet-5, batch 64, seconds per epoch of %d samples: clgrad %.2f, PyTorch %.2f; clgrad/PyTorch = %.2f (target <= 1)\n", n, cs, ts, cs / ts
    }'
fi

# The fraud autoencoder (30-100-100-15-100-100-30, batch 2048): one epoch over
# 284,807 x 30 rows, the fastest of two on each side.
echo
echo "== fraud-bench (autoencoder, 284,807 x 30 rows, batch 2048) =="
ninja -C "$build" bench/fraud-bench >/dev/null
"$build/bench/fraud-bench" | tee -a "$out"
echo
echo "== PyTorch (bench/pytorch_autoencoder.py, one thread) =="
/usr/bin/python3 "$root/bench/pytorch_autoencoder.py" | tee -a "$out"
fraud_seconds=$(sed -n 's/^result fraud .*epoch_seconds=\([0-9.]*\).*/\1/p' "$out")
torch_seconds=$(sed -n 's/^result pytorch_autoencoder .*epoch_seconds=\([0-9.]*\).*/\1/p' "$out")
echo
if [ -z "$fraud_seconds" ]; then
    echo "autoencoder ratio: no clgrad figure"
elif [ -z "$torch_seconds" ]; then
    echo "autoencoder ratio: skipped (no PyTorch figure)"
else
    awk -v cs="$fraud_seconds" -v ts="$torch_seconds" 'BEGIN {
        printf "fraud autoencoder, batch 2048, seconds per epoch of 284807 rows: clgrad %.2f, PyTorch %.2f; clgrad/PyTorch = %.2f\n", cs, ts, cs / ts
    }'
fi

# LSTM training throughput (issue 5): hidden 128, batch 64, lengths 28, 100
# and 400, with the 400/100 time ratio and the memory kept for BPTT.
echo
echo "== lstm-bench (LSTM 28 -> 128, batch 64, T = 28, 100, 400) =="
ninja -C "$build" bench/lstm-bench >/dev/null
"$build/bench/lstm-bench" | tee -a "$out"
echo
echo "== PyTorch (bench/pytorch_lstm.py, torch.nn.LSTM, one thread) =="
/usr/bin/python3 "$root/bench/pytorch_lstm.py" | tee -a "$out"
