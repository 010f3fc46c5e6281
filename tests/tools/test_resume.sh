#!/bin/bash
# tests/tools/test_resume.sh: clgrad train --resume, driven as a user would.
#   test_resume.sh CLGRAD
# A 3-epoch run killed with kill -9 after its first epoch's checkpoint (and
# another killed inside an epoch, after a --save-every checkpoint), each
# resumed, must end with the same bytes as the uninterrupted run and print
# the same losses and accuracies; a 1-epoch run extended to 3 by --resume
# --epochs must equal a 3-epoch run (constant schedule), on Fashion-MNIST and
# on a .csv of its own, resumed from another folder with no data options;
# contradicting options are refused. Exits 77 (meson's skip) without an OpenCL device or
# without the dataset ($CLGRAD_FASHION_MNIST). Run by meson test
# (tools/meson.build).
set -u

clgrad=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: some runs cd elsewhere
# shellcheck source=run_clgrad.sh
. "$(dirname "$0")/run_clgrad.sh"
data=${CLGRAD_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run NAME ARGS...: runs clgrad, keeping stdout, stderr and the exit code.
run() {
    local name=$1
    shift
    run_clgrad "$work/$name.out" "$work/$name.err" "$@"
    echo $? >"$work/$name.rc"
    echo "\$ clgrad $* -> exit $(cat "$work/$name.rc")"
}

expect_ok() {
    local rc
    rc=$(cat "$work/$1.rc")
    [ "$rc" = 0 ] || fail "$1: exit $rc, expected 0: $(cat "$work/$1.err")"
}

# expect_error NAME CODE PATTERN: exit CODE and one line "clgrad: ..." on
# stderr matching the extended regex PATTERN.
expect_error() {
    local name=$1 code=$2 pattern=$3 rc
    rc=$(cat "$work/$name.rc")
    [ "$rc" = "$code" ] || fail "$name: exit $rc, expected $code"
    [ "$(wc -l <"$work/$name.err")" = 1 ] || fail "$name: not one line on stderr: $(cat "$work/$name.err")"
    grep -Eq -- "^clgrad: .*$pattern" "$work/$name.err" ||
        fail "$name: stderr does not match /$pattern/: $(cat "$work/$name.err")"
}

# epochs NAME: "epoch loss accuracy" per epoch line of the run's output.
epochs() {
    sed -n 's/^epoch \([0-9]*\)\/[0-9]*  loss \([0-9.]*\)  .*test accuracy \([0-9.]*\)%$/\1 \2 \3/p' \
        "$work/$1.out"
}

# same_tail WHOLE RESUMED: the resumed run printed the uninterrupted run's
# lines for the epochs it trained, and the same final accuracy.
same_tail() {
    local n
    epochs "$2" >"$work/$2.epochs"
    n=$(wc -l <"$work/$2.epochs")
    [ "$n" -ge 1 ] || fail "$2: no epoch lines"
    epochs "$1" | tail -n "$n" | diff - "$work/$2.epochs" >/dev/null ||
        fail "$2: epoch lines differ from $1's: $(cat "$work/$2.epochs")"
    [ "$(grep 'final test accuracy' "$work/$1.out" | sed 's/.*accuracy //')" = \
        "$(grep 'final test accuracy' "$work/$2.out" | sed 's/.*accuracy //')" ] ||
        fail "$2: final accuracy differs from $1's"
}

# metadata FILE KEY: a checkpoint's metadata value (the JSON header is text).
metadata() {
    python3 - "$1" "$2" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
print(json.loads(raw[8:8 + n])["__metadata__"].get(sys.argv[2], ""))
PY
}

# kill_after NAME FILE ARGS...: starts a run, kill -9 as soon as FILE (its
# checkpoint, written by rename, so whole once it exists) appears; the run
# must have been killed (137), not have ended.
kill_after() {
    local name=$1 file=$2 pid rc
    shift 2
    "$clgrad" "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    while [ ! -e "$file" ] && kill -0 "$pid" 2>/dev/null; do
        sleep 0.005
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    echo "\$ clgrad $* -> killed after $(metadata "$file" train.epochs_done) epochs and" \
        "$(metadata "$file" train.epoch_step) steps (exit $rc)"
    [ "$rc" = 137 ] || fail "$name: exit $rc, expected 137 (the run ended before kill -9)"
}

if ! "$clgrad" devices >"$work/probe.out" 2>"$work/probe.err"; then
    if grep -q 'no OpenCL device found' "$work/probe.err"; then
        echo "skipped: no OpenCL device"
        exit 77
    fi
fi
if [ ! -d "$data" ]; then
    echo "skipped: no Fashion-MNIST in $data (apt-get install dataset-fashion-mnist)"
    exit 77
fi

# Small batches make each epoch long enough (about a second on two cores)
# for the kill to land before the run ends.
mlp=(train mlp --data "$data" --hidden 32 --batch 25 --epochs 3)
run whole "${mlp[@]}" --save "$work/whole.safetensors"
expect_ok whole

# Killed after the first epoch's checkpoint, resumed with nothing but the file.
kill_after killed "$work/killed.safetensors" "${mlp[@]}" --save "$work/killed.safetensors"
[ "$(metadata "$work/killed.safetensors" train.epoch_step)" = 0 ] ||
    fail "killed: the first checkpoint is not an epoch's"
run resumed train --resume "$work/killed.safetensors" --data "$data"
expect_ok resumed
grep -Eq '^resuming .*killed.safetensors: [12] of 3 epochs done$' "$work/resumed.out" ||
    fail "resumed: no 'resuming' line"
cmp "$work/whole.safetensors" "$work/killed.safetensors" ||
    fail "resumed: the final checkpoint differs from the uninterrupted run's"
same_tail whole resumed

# Killed inside the first epoch, after a --save-every checkpoint.
kill_after mid "$work/mid.safetensors" "${mlp[@]}" --save "$work/mid.safetensors" --save-every 97
[ "$(metadata "$work/mid.safetensors" train.epoch_step)" != 0 ] ||
    fail "mid: the first checkpoint is not inside an epoch"
run mid_resumed train --resume "$work/mid.safetensors" --data "$data" --save-every 97
expect_ok mid_resumed
cmp "$work/whole.safetensors" "$work/mid.safetensors" ||
    fail "mid_resumed: the final checkpoint differs from the uninterrupted run's"
same_tail whole mid_resumed

# The checkpoint is also a plain one: eval rebuilds the model and gets the
# run's accuracy; the weights are the model's tensors under PyTorch's names.
run eval eval --load "$work/whole.safetensors" --data "$data"
expect_ok eval
final=$(sed -n 's/^trained in .* final test accuracy \([0-9.]*\)%$/\1/p' "$work/whole.out")
grep -q "^test accuracy $final% " "$work/eval.out" || fail "eval: accuracy is not the run's $final%"
python3 - "$work/whole.safetensors" <<'PY' || fail "whole: tensor names or shapes"
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
header = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
weights = {k: v["shape"] for k, v in header.items() if k != "__metadata__" and not k.startswith("optim.")}
assert weights == {"fc1.weight": [32, 784], "fc1.bias": [32], "fc2.weight": [10, 32], "fc2.bias": [10]}, weights
for name, shape in weights.items():
    for state in ("exp_avg", "exp_avg_sq"):
        assert header["optim.%s.%s" % (name, state)]["shape"] == shape
assert header["__metadata__"]["optim.fc1.weight.step"] == str(3 * 2400)
PY

# --epochs extends a run: 1 epoch, then 2 more, is a 3-epoch run when the
# schedule does not depend on the length.
logreg=(train logreg --data "$data" --batch 200 --schedule constant --optim momentum --lr 0.01)
run three "${logreg[@]}" --epochs 3 --save "$work/three.safetensors"
expect_ok three
run one "${logreg[@]}" --epochs 1 --save "$work/one.safetensors"
expect_ok one
run extended train --resume "$work/one.safetensors" --data "$data" --epochs 3
expect_ok extended
cmp "$work/three.safetensors" "$work/one.safetensors" ||
    fail "extended: 1 + 2 epochs differ from 3"
same_tail three extended

# A run on its own data (a .csv with a label column, a validation split)
# resumes with the file alone, from another folder: the checkpoint holds the
# data's absolute path, the split and the label column.
python3 - "$work/own.csv" <<'PY'
import math, sys
with open(sys.argv[1], "w") as f:
    f.write("a,kind,b,c\n")
    for i in range(300):
        k = i % 3
        f.write("%.5f,%d,%.5f,%.5f\n" % (k + math.sin(i), k, math.cos(3 * i) - k, math.sin(7 * i)))
PY
own=(train logreg --data own.csv --label kind --val-split 0.25 --batch 16 --schedule constant)
(cd "$work" && run own_three "${own[@]}" --epochs 3 --save "$work/own_three.safetensors")
expect_ok own_three
(cd "$work" && run own_one "${own[@]}" --epochs 1 --save "$work/own_one.safetensors")
expect_ok own_one
[ "$(metadata "$work/own_one.safetensors" train.data)" = "$work/own.csv" ] ||
    fail "own_one: train.data is $(metadata "$work/own_one.safetensors" train.data)"
[ "$(metadata "$work/own_one.safetensors" train.label)" = kind ] || fail "own_one: train.label"
mkdir "$work/elsewhere"
(cd "$work/elsewhere" && run own_extended train --resume "$work/own_one.safetensors" --epochs 3)
expect_ok own_extended
cmp "$work/own_three.safetensors" "$work/own_one.safetensors" ||
    fail "own_extended: 1 + 2 epochs on own data differ from 3"
grep -q "final validation accuracy" "$work/own_extended.out" ||
    fail "own_extended: not measured on the validation split: $(cat "$work/own_extended.out")"
run own_split train --resume "$work/own_three.safetensors" --val-split 0.5
expect_error own_split 2 '--val-split 0.5 contradicts the run in .* \(--val-split 0.25\)'
run own_label train --resume "$work/own_three.safetensors" --label a
expect_error own_label 2 '--label a contradicts the run in .* \(--label kind\)'
run own_test train --resume "$work/own_three.safetensors" --test "$work/own.csv"
expect_error own_test 2 '--test .* contradicts the run in .* \(--test none\)'

# A finished run has nothing left; contradictions and wrong files are refused.
run complete train --resume "$work/three.safetensors" --data "$data"
expect_ok complete
grep -q "is complete: 3 of 3 epochs, final test accuracy" "$work/complete.out" ||
    fail "complete: $(cat "$work/complete.out")"
run lr train --resume "$work/one.safetensors" --lr 0.5
expect_error lr 2 '--lr 0.5 contradicts the run in .*one.safetensors \(--lr 0.00999999978\)'
run model train mlp --resume "$work/one.safetensors"
expect_error model 2 'the model mlp contradicts the run in .* \(the model logreg\)'
run hidden train --resume "$work/killed.safetensors" --hidden 64
expect_error hidden 2 '--hidden 64 contradicts the run in .* \(--hidden 32\)'
run optim train --resume "$work/one.safetensors" --optim adam
expect_error optim 2 '--optim adam contradicts'
run shorter train --resume "$work/three.safetensors" --epochs 2
expect_error shorter 2 '--epochs 2 is fewer than the 3 of the run'
run missing train --resume "$work/none.safetensors"
expect_error missing 1 'none.safetensors: cannot open'
# A weights-only file (clg_model_save's layout): no run to continue.
python3 - "$work/plain.safetensors" <<'PY'
import json, struct, sys
header = json.dumps({"__metadata__": {"model": "logreg", "arch": "784-10"},
                     "fc1.weight": {"dtype": "F32", "shape": [10, 784], "data_offsets": [0, 31360]},
                     "fc1.bias": {"dtype": "F32", "shape": [10], "data_offsets": [31360, 31400]}}).encode()
header += b" " * (-len(header) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(header)) + header + bytes(31400))
PY
run plain train --resume "$work/plain.safetensors" --data "$data"
expect_error plain 1 'holds no training run'

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
