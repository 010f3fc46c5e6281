#!/bin/bash
# tests/tools/test_cli.sh: the clgrad command line, driven as a user would.
#   test_cli.sh CLGRAD errors   exit codes and one-line messages for bad input
#   test_cli.sh CLGRAD train    a short real run on Fashion-MNIST, eval of its
#                               checkpoint, and a run whose --save fails
# Exits 77 (meson's skip) without an OpenCL device, or for `train` without the
# dataset ($CLGRAD_FASHION_MNIST). Run by meson test (tools/meson.build).
set -u

clgrad=$1
part=$2
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
    "$clgrad" "$@" >"$work/$name.out" 2>"$work/$name.err"
    echo $? >"$work/$name.rc"
    echo "\$ clgrad $* -> exit $(cat "$work/$name.rc")"
}

# expect_error NAME CODE PATTERN: the run exited with CODE and wrote exactly
# one line on stderr, "clgrad: ..." matching the extended regex PATTERN.
expect_error() {
    local name=$1 code=$2 pattern=$3
    local rc lines
    rc=$(cat "$work/$name.rc")
    lines=$(wc -l <"$work/$name.err")
    [ "$rc" = "$code" ] || fail "$name: exit $rc, expected $code"
    [ "$lines" = 1 ] || fail "$name: $lines lines on stderr, expected 1: $(cat "$work/$name.err")"
    grep -q '^clgrad: ' "$work/$name.err" || fail "$name: stderr does not start with 'clgrad: '"
    grep -Eq -- "$pattern" "$work/$name.err" ||
        fail "$name: stderr does not match /$pattern/: $(cat "$work/$name.err")"
}

expect_ok() {
    local name=$1 rc
    rc=$(cat "$work/$name.rc")
    [ "$rc" = 0 ] || fail "$name: exit $rc, expected 0: $(cat "$work/$name.err")"
}

# expect_out NAME PATTERN: stdout matches the extended regex.
expect_out() {
    grep -Eq -- "$2" "$work/$1.out" || fail "$1: stdout does not match /$2/"
}

# No device, no test: say so with meson's skip code rather than pass.
if ! "$clgrad" devices >"$work/probe.out" 2>"$work/probe.err"; then
    if grep -q 'no OpenCL device found' "$work/probe.err"; then
        echo "skipped: no OpenCL device"
        exit 77
    fi
fi

errors() {
    run help --help
    expect_ok help
    expect_out help 'devices' && expect_out help 'train' && expect_out help 'eval'
    expect_out help 'tune'
    expect_out help 'POCL_AFFINITY'
    expect_out help 'CLGRAD_DEVICE'
    for command in devices train eval tune; do
        run "help_$command" "$command" --help
        expect_ok "help_$command"
        expect_out "help_$command" "^usage: clgrad $command"
    done

    run version --version
    expect_ok version
    expect_out version '^clgrad [0-9]+\.[0-9]+\.[0-9]+$'

    run none
    expect_error none 2 'no command'
    run unknown_command frobnicate
    expect_error unknown_command 2 'unknown command "frobnicate"'

    # Every bad value names its option.
    run epochs_word train mlp --epochs abc
    expect_error epochs_word 2 '^clgrad: --epochs: "abc" is not a whole number$'
    run batch_zero train mlp --batch 0
    expect_error batch_zero 2 '^clgrad: --batch: 0 is out of range'
    run batch_trailing train mlp --batch=12x
    expect_error batch_trailing 2 '^clgrad: --batch: "12x"'
    run lr_negative train mlp --lr -0.1
    expect_error lr_negative 2 '^clgrad: --lr: must be greater than 0'
    run lr_nan train mlp --lr nan
    expect_error lr_nan 2 '^clgrad: --lr: "nan" is not a number'
    run optim_unknown train mlp --optim adagrad
    expect_error optim_unknown 2 '^clgrad: --optim: unknown optimizer "adagrad"'
    run schedule_unknown train mlp --schedule step
    expect_error schedule_unknown 2 '^clgrad: --schedule: unknown schedule "step"'
    run hidden_empty train mlp --hidden 256,,10
    expect_error hidden_empty 2 '^clgrad: --hidden: '
    run hidden_logreg train logreg --hidden 32
    expect_error hidden_logreg 2 '--hidden applies to mlp only'
    run seed_negative train mlp --seed -3
    expect_error seed_negative 2 '^clgrad: --seed: '
    run missing_value train mlp --epochs
    expect_error missing_value 2 'option --epochs needs a value'
    run unknown_option train mlp --frobnicate 3
    expect_error unknown_option 2 'unknown option --frobnicate'
    run no_model train
    expect_error no_model 2 'which model'
    run unknown_model train cnn
    expect_error unknown_model 2 'unknown model "cnn"'
    run extra_argument devices extra
    expect_error extra_argument 2 'unexpected argument "extra"'
    run tune_unknown_model tune cnn
    expect_error tune_unknown_model 2 'unknown model "cnn"'
    run tune_hidden_logreg tune logreg --hidden 8
    expect_error tune_hidden_logreg 2 '--hidden applies to mlp only'
    run tune_batch_word tune --batch many
    expect_error tune_batch_word 2 '^clgrad: --batch: "many" is not a whole number$'
    run eval_no_load eval
    expect_error eval_no_load 2 '--load FILE is required'

    # A missing dataset points at the Debian package that provides it.
    run missing_data train logreg --data "$work/no-such-folder"
    expect_error missing_data 1 'dataset-fashion-mnist'
    expect_error missing_data 1 'no-such-folder'

    # A checkpoint that is not there is named.
    run eval_missing eval --load "$work/absent.safetensors"
    expect_error eval_missing 1 'absent\.safetensors'

    # An unknown CLGRAD_DEVICE fails and lists the devices there are; the
    # listing marks the device clgrad would pick when nothing is asked for.
    run devices devices
    expect_ok devices
    expect_out devices '^\* [0-9]+:[0-9]+  '
    local first
    first=$(sed -n 's/^[* ] \([0-9]*:[0-9]*\)  .*/\1/p' "$work/devices.out" | head -n 1)
    CLGRAD_DEVICE=no-such-device-anywhere run bad_device_list devices
    expect_error bad_device_list 1 "no-such-device-anywhere.*devices: .*$first"
    grep -q '^\* ' "$work/bad_device_list.out" && fail "bad_device_list: a device is marked"
    CLGRAD_DEVICE=no-such-device-anywhere run bad_device_train train logreg
    expect_error bad_device_train 1 "no-such-device-anywhere.*devices: .*$first"
    CLGRAD_DEVICE=$first run good_device devices
    expect_ok good_device
    expect_out good_device "^\* $first  "
}

train() {
    if [ ! -d "$data" ]; then
        echo "skipped: no Fashion-MNIST in $data (apt-get install dataset-fashion-mnist)"
        exit 77
    fi
    # One epoch of logistic regression: about 82% on the test set.
    run logreg train logreg --data "$data" --epochs 1 --save "$work/logreg.safetensors"
    expect_ok logreg
    expect_out logreg '^epoch 1/1  loss [0-9.]+  [0-9]+ samples/s  .*test accuracy [0-9.]+%$'
    expect_out logreg "checkpoint written to $work/logreg.safetensors"
    grep -q $'\r' "$work/logreg.out" && fail "logreg: carriage returns in output to a file"
    [ -s "$work/logreg.err" ] && fail "logreg: stderr not empty: $(cat "$work/logreg.err")"
    local trained
    trained=$(sed -n 's/^trained in .* final test accuracy \([0-9.]*\)%$/\1/p' "$work/logreg.out")
    awk -v a="$trained" 'BEGIN { exit !(a >= 75) }' || fail "logreg: accuracy '$trained' below 75%"

    # The checkpoint rebuilds the same model: the same accuracy, and a
    # confusion matrix whose rows add up to the test set.
    run eval eval --load "$work/logreg.safetensors" --data "$data"
    expect_ok eval
    expect_out eval '^model logreg 784-10 '
    expect_out eval "^test accuracy $trained% \\([0-9]+ of 10000\\)$"
    expect_out eval '^0 T-shirt/top'
    expect_out eval '^9 Ankle boot'
    local total
    total=$(awk '/^[0-9] /{ for (i = NF - 10; i < NF; i++) s += $i } END { print s }' \
        "$work/eval.out")
    [ "$total" = 10000 ] || fail "eval: confusion matrix sums to '$total', expected 10000"

    # A short MLP run with its own hidden sizes, optimizer and schedule, and eval.
    run mlp train mlp --data "$data" --epochs 1 --hidden 32 --optim momentum --lr 0.05 \
        --schedule constant --batch 256 --save "$work/mlp.safetensors"
    expect_ok mlp
    expect_out mlp '^training mlp 784-32-10 '
    expect_out mlp '^[0-9]+ samples, 1 epochs, batch 256, momentum lr 0.05 \(constant\), seed 42$'
    run mlp_eval eval --load "$work/mlp.safetensors" --data "$data"
    expect_ok mlp_eval
    expect_out mlp_eval '^model mlp 784-32-10 '

    # FGSM against that checkpoint: accuracies per eps, then the PNG grid,
    # checked chunk by chunk (signature, CRCs, IHDR, inflated IDAT size).
    run attack attack fgsm --load "$work/mlp.safetensors" --data "$data" --count 300 \
        --eps 0,0.1 --out "$work/fgsm"
    expect_ok attack
    expect_out attack '^300 test images: clean accuracy [0-9.]+%$'
    expect_out attack '^  eps 0 +adversarial accuracy [0-9.]+%$'
    expect_out attack '^  eps 0.1 +adversarial accuracy [0-9.]+%$'
    local clean eps0
    clean=$(sed -n 's/.*clean accuracy \([0-9.]*\)%/\1/p' "$work/attack.out")
    eps0=$(sed -n 's/^  eps 0 *adversarial accuracy \([0-9.]*\)%/\1/p' "$work/attack.out")
    [ -n "$clean" ] && [ "$clean" = "$eps0" ] || fail "attack: eps 0 gives '$eps0', clean '$clean'"
    python3 - "$work/fgsm/fgsm.png" <<'PY' || fail "attack: $work/fgsm/fgsm.png is not a valid PNG"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, size = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
    if kind == b"IHDR":
        size = struct.unpack(">IIBB", body[:10])
        assert size[2:] == (8, 2)  # 8-bit RGB
    idat += body if kind == b"IDAT" else b""
    pos += 12 + n
width, height = size[:2]
assert len(zlib.decompress(idat)) == height * (1 + 3 * width)
PY
    run attack_bad attack fgsm --load "$work/mlp.safetensors" --eps=-0.1
    expect_error attack_bad 2 '--eps'

    # Tuning logistic regression's GEMM shapes writes the table into the cache
    # folder: a private one, so the other tests keep the default choices.
    CLGRAD_CACHE_DIR="$work/tuned" run tune tune logreg
    expect_ok tune
    expect_out tune '^tuning the [0-9]+ GEMM shapes of logreg 784-10 '
    expect_out tune '^  m=[0-9]+ n=10 k=[0-9]+[ A-Za-z^]* +[a-z0-9-]+ [0-9.]+ GFLOP/s +[a-z0-9-]+ [0-9.]+ GFLOP/s$'
    ls "$work"/tuned/gemm-*.txt >/dev/null 2>&1 || fail "tune: no gemm-*.txt table in the cache folder"

    # An unwritable --save: the run still reports its accuracy, then fails.
    run bad_save train logreg --data "$data" --epochs 1 --save /nonexistent/dir/model.safetensors
    expect_error bad_save 1 '/nonexistent/dir'
    expect_out bad_save 'final test accuracy [0-9.]+%'
}

case $part in
errors) errors ;;
train) train ;;
*)
    echo "usage: test_cli.sh CLGRAD errors|train" >&2
    exit 2
    ;;
esac

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
