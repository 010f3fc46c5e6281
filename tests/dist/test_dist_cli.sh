#!/bin/bash
# tests/dist/test_dist_cli.sh: `mpirun -np 2 clgrad fraud` on a small
# synthetic file, then `mpirun -np 2 clgrad train` end to end on
# Fashion-MNIST (exit 77, meson's skip, without it):
#   0. the fraud autoencoder under -np 2 reports the epoch losses and the AUC
#      of one process, printed once, and writes its checkpoint;
#  0b. a command that would run whole in each rank is refused, said once;
#   1. a checkpoint written under -np 2 loads in `clgrad eval`, which finds
#      the accuracy training reported;
#   2. ranks started with different options are refused at start;
#   3. a global batch that would leave a rank without a sample is refused;
#   4. a rank killed mid-epoch ends the job, with a message, within 60 s.
# usage: test_dist_cli.sh CLGRAD MPIRUN
set -uo pipefail
clgrad=$1
mpirun=$2
run=("$mpirun" --allow-run-as-root --oversubscribe)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}

echo "0. the fraud autoencoder, one process against two ranks"
"$clgrad" fraud --synthesize 6000 --out "$tmp/fraud.csv" --seed 3 >/dev/null ||
    fail "clgrad fraud --synthesize"
# 2,995 training rows: 12 batches of 249 (124 + 125) and one of 7 (3 + 4).
fraud_args=(fraud --data "$tmp/fraud.csv" --epochs 2 --batch 249 --seed 4)
"$clgrad" "${fraud_args[@]}" >"$tmp/fraud-one.log" 2>&1 ||
    { cat "$tmp/fraud-one.log"; fail "clgrad fraud in one process"; }
"${run[@]}" -np 2 "$clgrad" "${fraud_args[@]}" --save "$tmp/fraud.safetensors" \
    >"$tmp/fraud-two.log" 2>&1 || { cat "$tmp/fraud-two.log"; fail "clgrad fraud under -np 2"; }
grep -q "data parallel: 2 ranks" "$tmp/fraud-two.log" || fail "no data-parallel line: $(cat "$tmp/fraud-two.log")"
grep -q "epoch 2/2: .* 2 ranks, [0-9]*% of step time waiting" "$tmp/fraud-two.log" ||
    fail "no ranks and wait share on the epoch line: $(cat "$tmp/fraud-two.log")"
[ "$(grep -c "test ROC AUC" "$tmp/fraud-two.log")" -eq 1 ] || fail "rank 1 printed too"
[ -s "$tmp/fraud.safetensors" ] || fail "no checkpoint from -np 2"
# The same numbers within float32 rounding: losses to 1e-5 relative, the AUC
# (from distances that differ in their last bits) to 1e-3.
numbers() { grep -o "loss [0-9.]*\|test ROC AUC: [0-9.]*" "$1" | grep -o "[0-9.]*$"; }
paste <(numbers "$tmp/fraud-one.log") <(numbers "$tmp/fraud-two.log") | awk '
    { n++; d = $1 - $2; if (d < 0) d = -d
      if (d > (n < 3 ? 1e-5 * $1 : 1e-3)) { print "differs: " $1 " and " $2; bad = 1 } }
    END { if (n != 3) { print n " numbers, expected 3"; bad = 1 } exit bad }' ||
    fail "-np 2 differs from one process: $(cat "$tmp/fraud-one.log" "$tmp/fraud-two.log")"
echo "   $(grep "test ROC AUC" "$tmp/fraud-two.log"), as one process"

echo "0b. a command that runs in one process, started on two ranks"
for command in "train vae" "lecture perceptron"; do
    # shellcheck disable=SC2086 # the command's words
    "${run[@]}" -np 2 "$clgrad" $command >"$tmp/alone.log" 2>&1 &&
        fail "mpirun -np 2 clgrad $command was accepted"
    [ "$(grep -c "clgrad: $command: started by mpirun with 2 ranks, but it runs in one process" \
        "$tmp/alone.log")" -eq 1 ] || fail "no single refusal for $command: $(cat "$tmp/alone.log")"
done

data=${CLGRAD_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
if [ ! -e "$data/train-images-idx3-ubyte" ] && [ ! -e "$data/train-images-idx3-ubyte.gz" ]; then
    echo "no Fashion-MNIST in $data: skipping the rest"
    exit 77
fi

echo "1. a checkpoint from two ranks, read by clgrad eval"
"${run[@]}" -np 2 "$clgrad" train logreg --epochs 1 --data "$data" \
    --save "$tmp/two.safetensors" >"$tmp/train.log" 2>&1 || { cat "$tmp/train.log"; fail "training under -np 2"; }
grep -q "data parallel: 2 ranks" "$tmp/train.log" || fail "no data-parallel line in: $(cat "$tmp/train.log")"
trained=$(grep -o "final test accuracy [0-9.]*%" "$tmp/train.log" | grep -o "[0-9.]*%")
[ "$(grep -c "final test accuracy" "$tmp/train.log")" -eq 1 ] || fail "rank 1 printed too"
"$clgrad" eval --load "$tmp/two.safetensors" --data "$data" >"$tmp/eval.log" 2>&1 ||
    { cat "$tmp/eval.log"; fail "clgrad eval of the -np 2 checkpoint"; }
grep -q "test accuracy $trained" "$tmp/eval.log" ||
    fail "eval does not find training's $trained: $(cat "$tmp/eval.log")"
echo "   trained $trained, eval agrees"

echo "2. ranks with different options"
"${run[@]}" -np 1 "$clgrad" train logreg --epochs 1 --data "$data" --seed 1 --save "$tmp/a" : \
    -np 1 "$clgrad" train logreg --epochs 1 --data "$data" --seed 2 --save "$tmp/a" \
    >"$tmp/mismatch.log" 2>&1 && fail "ranks with different seeds were accepted"
grep -q "not started with the same clgrad build and options" "$tmp/mismatch.log" ||
    fail "no mismatch message: $(cat "$tmp/mismatch.log")"

echo "3. a batch that leaves a rank empty"
"${run[@]}" -np 2 "$clgrad" train logreg --epochs 1 --data "$data" --batch 1 \
    --save "$tmp/b" >"$tmp/batch.log" 2>&1 && fail "--batch 1 over 2 ranks was accepted"
grep -q -- "--batch 1 leaves a batch of 1 sample for 2 ranks" "$tmp/batch.log" ||
    fail "no batch message: $(cat "$tmp/batch.log")"

echo "4. a rank killed mid-epoch"
"${run[@]}" -np 2 "$clgrad" train mlp --epochs 20 --data "$data" \
    --save "$tmp/killed.safetensors" >"$tmp/killed.log" 2>&1 &
job=$!
for _ in $(seq 600); do
    grep -q "data parallel" "$tmp/killed.log" && break
    kill -0 "$job" 2>/dev/null || fail "the job ended before training: $(cat "$tmp/killed.log")"
    sleep 0.1
done
sleep 2 # into the epoch
# The ranks are mpirun's children running clgrad with this test's own --save.
victim=$(pgrep -P "$job" -f "killed.safetensors" | head -n 1)
[ -n "$victim" ] || { kill "$job"; fail "no rank process found under mpirun $job"; }
killed_at=$(date +%s)
kill -KILL "$victim"
ended=false
for _ in $(seq 600); do
    if ! kill -0 "$job" 2>/dev/null; then
        ended=true
        break
    fi
    sleep 0.1
done
if ! $ended; then
    kill -KILL "$job"
    fail "the job was still running 60 s after rank process $victim was killed"
fi
wait "$job"
code=$?
seconds=$(($(date +%s) - killed_at))
[ "$code" -ne 0 ] || fail "mpirun exited 0 after a rank was killed"
grep -q -i "signal 9\|killed" "$tmp/killed.log" || fail "no message naming the killed rank: $(cat "$tmp/killed.log")"
# clgrad train writes a checkpoint at every epoch's end (--resume continues
# from it), so a run killed after its first epoch leaves one: it must be a
# whole file that clgrad eval reads, never a torn one or a temporary.
if [ -e "$tmp/killed.safetensors" ]; then
    "$clgrad" eval --load "$tmp/killed.safetensors" --data "$data" >"$tmp/killed-eval.log" 2>&1 ||
        fail "the killed run left a checkpoint clgrad eval cannot read: $(cat "$tmp/killed-eval.log")"
fi
ls "$tmp"/killed.safetensors.tmp.* >/dev/null 2>&1 && fail "the killed run left a temporary file"
echo "   mpirun ended in ${seconds} s with status $code:"
grep -i "signal 9\|killed" "$tmp/killed.log" | head -n 2 | sed 's/^/   | /'
echo "all passed"
