#!/bin/bash
# bench/run.sh: clgrad-bench as given, then clgrad against its CPU peers in one
# table: PyTorch from PyPI (torch==2.15.0, in a virtual environment, on one and
# on two threads), tinygrad (tinygrad==0.14.0, DEV=CL: the same PoCL OpenCL
# device clgrad runs on; MLP and LeNet-5) and, when installed, Debian's
# python3-torch on one thread. Every side runs once per round, the rounds
# alternate who goes first, and each side's figure is its best round (a slow
# round measures the other jobs on a shared machine). The last column is clgrad's
# time over the best PyTorch time: below 1 means clgrad is faster.
# POCL_AFFINITY=1 keeps PoCL's threads on separate cores.
#
#   bench/run.sh [BUILD_DIR] [clgrad-bench options...]     (default BUILD_DIR: build)
#
# CLGRAD_BENCH_VENV: the virtual environment with torch and tinygrad (default
#   ~/.cache/clgrad/bench-venv); created with `python3 -m venv` and pip when it
#   has no python, extra pip options from CLGRAD_BENCH_PIP_ARGS (e.g. PyTorch's
#   CPU wheel index). CLGRAD_BENCH_VENV=none leaves the venv sides out.
# CLGRAD_BENCH_ROUNDS: interleaved rounds (default 2).
# --quick (among the clgrad-bench options) also shortens the peers' runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
export POCL_AFFINITY=${POCL_AFFINITY:-1}
data=${CLGRAD_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
venv=${CLGRAD_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/clgrad/bench-venv}
rounds=${CLGRAD_BENCH_ROUNDS:-2}
quick=0
for arg in "$@"; do
    [ "$arg" = --quick ] && quick=1
done

ninja -C "$build" bench/clgrad-bench bench/fraud-bench bench/lstm-bench bench/peak-bench >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results

echo "== clgrad-bench $* =="
"$build/bench/clgrad-bench" --data "$data" "$@"

# The venv: used when its python imports torch; created when it has no python.
vpy=
if [ "$venv" != none ]; then
    if [ ! -x "$venv/bin/python" ]; then
        echo
        echo "== creating $venv (torch==2.15.0, tinygrad==0.14.0) =="
        # shellcheck disable=SC2086  # CLGRAD_BENCH_PIP_ARGS is a list of options
        if ! { python3 -m venv "$venv" &&
            "$venv/bin/pip" install -q ${CLGRAD_BENCH_PIP_ARGS:-} torch==2.15.0 tinygrad==0.14.0 numpy; }; then
            echo "could not create $venv: the PyTorch 2.15 and tinygrad columns stay empty"
        fi
    fi
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch' 2>/dev/null; then
        vpy=$venv/bin/python
    else
        echo "no torch in $venv: the PyTorch 2.15 and tinygrad columns stay empty"
    fi
fi
debian_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && debian_torch=1

if [ $quick = 1 ]; then
    torch_samples=(--samples 12800)
    fraud_epochs=1
    tiny_steps=50
else
    torch_samples=()
    fraud_epochs=2
    tiny_steps=100
fi

# side NAME COMMAND...: runs one benchmark, shows its output and keeps its
# result lines, prefixed by NAME, for bench/table.py.
side() {
    local name=$1
    shift
    echo "-- $name: ${*##*/}"
    "$@" 2>&1 | tee "$work/last" | grep -v '^result ' | sed 's/^/   /' || true
    grep '^result ' "$work/last" | sed "s/^/$name /" >>"$results" || true
}

clgrad_round() {
    side clgrad "$build/bench/clgrad-bench" --data "$data" --no-matmul --no-startup \
        $([ $quick = 1 ] && echo --quick)
    side clgrad "$build/bench/fraud-bench"
    side clgrad "$build/bench/lstm-bench"
}

torch_round() { # PYTHON THREADS NAME
    side "$3" "$1" "$root/bench/pytorch_mlp.py" "$data" --threads "$2" "${torch_samples[@]}"
    side "$3" "$1" "$root/bench/pytorch_lenet5.py" "$data" --threads "$2" "${torch_samples[@]}"
    side "$3" "$1" "$root/bench/pytorch_autoencoder.py" $fraud_epochs --threads "$2"
    side "$3" "$1" "$root/bench/pytorch_lstm.py" --threads "$2" --lengths 28,100
}

peers_round() {
    if [ -n "$vpy" ]; then
        torch_round "$vpy" 1 torch-1
        torch_round "$vpy" 2 torch-2
        side tinygrad env DEV=CL "$vpy" "$root/bench/tinygrad_mlp.py" "$data" --steps $tiny_steps
        side tinygrad env DEV=CL "$vpy" "$root/bench/tinygrad_lenet5.py" "$data" --steps $tiny_steps
    fi
    if [ $debian_torch = 1 ]; then
        torch_round /usr/bin/python3 1 debian-1
    fi
}

# The device's multiply-add rate, measured once: bench/table.py's
# denominator for each model's share of the FMA peak.
echo
side peak "$build/bench/peak-bench"

for ((r = 1; r <= rounds; r++)); do
    echo
    echo "== round $r of $rounds ($(uptime | sed 's/.*load/load/')) =="
    if ((r % 2)); then
        clgrad_round
        peers_round
    else
        peers_round
        clgrad_round
    fi
done

echo
echo "== best of $rounds interleaved rounds (POCL_AFFINITY=$POCL_AFFINITY; $(uptime | sed 's/.*load/load/')) =="
python3 "$root/bench/table.py" "$results"
