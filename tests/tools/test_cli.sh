#!/bin/bash
# tests/tools/test_cli.sh: the clgrad command line, driven as a user would.
#   test_cli.sh CLGRAD errors   exit codes and one-line messages for bad input
#   test_cli.sh CLGRAD train    a short real run on Fashion-MNIST, eval of its
#                               checkpoint, and a run whose --save fails
# Exits 77 (meson's skip) without an OpenCL device, or for `train` without the
# dataset ($CLGRAD_FASHION_MNIST). Run by meson test (tools/meson.build).
set -u

clgrad=$1
# shellcheck source=run_clgrad.sh
. "$(dirname "$0")/run_clgrad.sh"
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
    run_clgrad "$work/$name.out" "$work/$name.err" "$@"
    echo $? >"$work/$name.rc"
    # Mesa's drivers write their own notes on stderr, prefixed "MESA: ": on
    # rusticl, llvmpipe's compiler says "Treating load_kernel_arg in control
    # flow as uniform" when it compiles some kernels with its shader cache
    # cold (kernel arguments are uniform, and the op suites check those
    # kernels' results). Not clgrad's output, so not what is checked here.
    sed -i '/^MESA: /d' "$work/$name.err"
    echo "\$ clgrad $* -> exit $(cat "$work/$name.rc")"
}

# run_bounded NAME ARGS...: as run, killed after 60 s (exit 124), for files
# that never end.
run_bounded() {
    local name=$1
    shift
    timeout 60 "$clgrad" "$@" >"$work/$name.out" 2>"$work/$name.err"
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
    for command in devices train eval tune summary; do
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
    # Both messages and the help come from main.c's one table: every command
    # the help lists is named, in its order.
    listed=$(sed -n '/^commands:$/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' "$work/help.out" | paste -sd, |
        sed 's/,/, /g')
    [ -n "$listed" ] || fail "help: no commands listed"
    expect_error none 2 "\(commands: $listed; see clgrad --help\)\$"
    expect_error unknown_command 2 "\(commands: $listed; see clgrad --help\)\$"

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
    expect_error hidden_logreg 2 '--hidden applies to mlp, rnn, lstm and gru'
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
    expect_error tune_hidden_logreg 2 '--hidden applies to mlp, rnn, lstm and gru'
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
    expect_out mlp '^[0-9]+ samples, 1 epoch, batch 256, momentum lr 0.05 \(constant\), seed 42$'
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
    # Every classifier of clgrad train can be tuned (lenet5's 19 shapes take
    # about 20 s; a small rnn shows the routing and --hidden).
    CLGRAD_CACHE_DIR="$work/tuned" run tune_rnn tune --model rnn --hidden 8
    expect_ok tune_rnn
    expect_out tune_rnn '^tuning the [0-9]+ GEMM shapes of rnn '
    run tune_rnn_hidden tune lstm --hidden 8,8
    expect_error tune_rnn_hidden 2 '^clgrad: tune: --hidden for lstm is one size'

    # An unwritable --save fails before training, so no run is lost to it.
    run bad_save train logreg --data "$data" --epochs 1 --save /nonexistent/dir/model.safetensors
    expect_error bad_save 1 '^clgrad: --save: cannot write /nonexistent/dir/model.safetensors: folder /nonexistent/dir does not exist$'
    grep -q 'training' "$work/bad_save.out" && fail "bad_save: training started"

    # --plot: loss.png and accuracy.png of 800x560 (the PNG's IHDR), and a
    # folder that cannot be made fails before training. --profile: the table
    # of device time per kernel, the GEMM and the loss among its rows.
    run plot train logreg --data "$data" --epochs 2 --plot "$work/plots" --profile \
        --save "$work/plot.safetensors"
    expect_ok plot
    expect_out plot "^curves written to $work/plots/loss.png and $work/plots/accuracy.png$"
    expect_out plot '^device time per kernel .*: [0-9.]+ s in [0-9]+ commands$'
    expect_out plot '^  (gemm_[a-z]+|clblast_sgemm) +[0-9]+ +[0-9.]+ s +[0-9.]+% +[0-9.]+ us$'
    expect_out plot '^  cross_entropy_forward '
    local picture
    for picture in loss accuracy; do
        python3 - "$work/plots/$picture.png" <<'PY' || fail "plot: $picture.png is not an 800x560 PNG"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
assert struct.unpack(">II", data[16:24]) == (800, 560)
PY
    done
    [ -e "$work/plots/loss.png.tmp" ] && fail "plot: loss.png.tmp left behind"
    run plot_bad train logreg --data "$data" --epochs 1 --plot /nonexistent/dir/plots
    expect_error plot_bad 1 '^clgrad: --plot: /nonexistent/dir/plots: No such file or directory$'
}

# clgrad lecture (tools/clgrad/lecture.c): the perceptron slide end to end
# (its figures and its PNG), and the usage errors. Part of `errors`: no
# dataset needed, well under a second.
lecture_checks() {
    run lecture_perceptron lecture perceptron --plot "$work/lecture" --seed 3
    expect_ok lecture_perceptron
    expect_out lecture_perceptron 'Novikoff bound \(R/gamma\)\^2 = [0-9]+'
    expect_out lecture_perceptron '^  converged: [0-9]+ updates? in [0-9]+ epochs?'
    python3 - "$work/lecture/perceptron.png" <<'PY' || fail "lecture_perceptron: no PNG picture"
import sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
PY
    run lecture_flip lecture perceptron --flip 0.1 --epochs 20
    expect_ok lecture_flip
    expect_out lecture_flip '^  not converged: stopped at the limit of 20 epochs'
    run lecture_help lecture --help
    expect_ok lecture_help
    expect_out lecture_help '^usage: clgrad lecture'
    run lecture_unknown lecture frobnicate
    expect_error lecture_unknown 2 'lecture: unknown experiment "frobnicate"'
    run lecture_none lecture
    expect_error lecture_none 2 'which experiment'
    run lecture_layers lecture vanishing --layers 1
    expect_error lecture_layers 2 '^clgrad: --layers: 1 is out of range'
    run lecture_flip_bad lecture perceptron --flip 2
    expect_error lecture_flip_bad 2 '^clgrad: --flip: 2 is out of range \(0 to 0.5\)$'
}

# clgrad fraud (tools/clgrad/fraud.c): a small synthetic file, a short
# denoising run on it with its pictures, a bad CSV and usage errors. Part of
# `errors`: no dataset needed, a few seconds.
fraud_checks() {
    run fraud_synth fraud --synthesize 3000 --out "$work/synthetic-creditcard.csv" --seed 2
    expect_ok fraud_synth
    expect_out fraud_synth '^wrote 3000 SYNTHETIC transactions \(5 frauds, seed 2\) to .*synthetic-creditcard.csv'
    [ "$(head -c 5 "$work/synthetic-creditcard.csv")" = "Time," ] ||
        fail "fraud_synth: the file does not start with the header"
    [ "$(wc -l <"$work/synthetic-creditcard.csv")" = 3001 ] || fail "fraud_synth: not 3001 lines"
    run fraud_run fraud --data "$work/synthetic-creditcard.csv" --epochs 2 --batch 256 \
        --denoise mask --fpr 0.05 --plot "$work/fraud"
    expect_ok fraud_run
    expect_out fraud_run '^split: train 1498 normal; test 1497 normal \+ 5 frauds'
    expect_out fraud_run '^epoch 2/2: loss [0-9.]+ '
    expect_out fraud_run '^test ROC AUC: [01]\.[0-9]{4}$'
    expect_out fraud_run '^  normal +[0-9]+ +[0-9]+$'
    expect_out fraud_run '^  fraud +[0-9]+ +[0-9]+$'
    expect_out fraud_run '^TPR \(fraud -> fraud\) [0-9.]+%, FPR \(normal -> fraud\) [0-4]\.[0-9]+%$'
    for picture in roc distances; do
        python3 - "$work/fraud/$picture.png" <<'PY' || fail "fraud_run: no PNG $picture.png"
import sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
PY
    done
    { head -1 "$work/synthetic-creditcard.csv"; sed -n 2p "$work/synthetic-creditcard.csv"
      sed -n 3p "$work/synthetic-creditcard.csv" | awk -F, -v OFS=, '{ $5 = "abc"; print }'; } \
        >"$work/bad.csv"
    run fraud_bad fraud --data "$work/bad.csv"
    expect_error fraud_bad 1 'bad.csv: line 3, column 5 \(V4\): "abc" is not a number$'
    run fraud_noise fraud --data "$work/bad.csv" --denoise salt
    expect_error fraud_noise 2 '^clgrad: --denoise: "salt" is not a kind of noise'
    run fraud_none fraud --epochs 3
    expect_error fraud_none 2 'either --synthesize N --out FILE or --data FILE'
    run fraud_help fraud --help
    expect_ok fraud_help
    expect_out fraud_help '^usage: clgrad fraud'
}

# clgrad train vae / gan: option errors always; with the dataset, a tiny run
# of each that prints both loss terms per epoch and writes its PNGs.
generative_checks() {
    run vae_latent train vae --latent 0
    expect_error vae_latent 2 '^clgrad: --latent'
    run gan_arch train gan --arch resnet
    expect_error gan_arch 2 '^clgrad: --arch: "resnet" is not mlp or dcgan$'
    run gan_loss train gan --loss wasserstein
    expect_error gan_loss 2 '^clgrad: --loss: "wasserstein" is not minimax or nonsaturating$'
    run vae_help train vae --help
    expect_ok vae_help
    expect_out vae_help '^usage: clgrad train vae'
    [ -d "$data" ] || return 0
    run vae_run train vae --data "$data" --limit 256 --epochs 2 --latent 2 --hidden 64 \
        --out "$work/vae" --save "$work/vae.safetensors"
    expect_ok vae_run
    expect_out vae_run '^epoch 2/2: train reconstruction [0-9.]+ \+ KL [0-9.]+ = [0-9.]+; test '
    run gan_run train gan --data "$data" --limit 128 --epochs 1 --arch dcgan --hidden 4 \
        --loss nonsaturating --out "$work/gan" --save "$work/gan.safetensors"
    expect_ok gan_run
    expect_out gan_run '^epoch 1/1: discriminator loss [0-9.]+, generator loss -?[0-9.]+ '
    # The saved weights load back: the pictures drawn without sampling noise
    # (the VAE's reconstructions and latent map, the GAN's fixed-noise grid)
    # come out byte for byte the same.
    run vae_load train vae --data "$data" --limit 256 --epochs 0 --out "$work/vae-loaded" \
        --load "$work/vae.safetensors"
    expect_ok vae_load
    run gan_load train gan --data "$data" --epochs 0 --loss nonsaturating \
        --out "$work/gan-loaded" --load "$work/gan.safetensors"
    expect_ok gan_load
    for pair in vae/recon.png:vae-loaded/recon.png vae/latent.png:vae-loaded/latent.png \
        gan/samples-epoch1.png:gan-loaded/samples-epoch1.png; do
        cmp -s "$work/${pair%%:*}" "$work/${pair#*:}" ||
            fail "${pair#*:} differs from ${pair%%:*}: the saved weights did not load back"
    done
    run gan_load_vae train gan --data "$data" --epochs 0 --load "$work/vae.safetensors"
    expect_error gan_load_vae 1 'holds a "vae", not a gan'
    for picture in vae/recon vae/samples vae/latent vae/elbo gan/samples-epoch0 \
        gan/samples-epoch1 gan/losses; do
        python3 - "$work/$picture.png" <<'PY' || fail "generative: no PNG $picture.png"
import sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
PY
    done
}

# clgrad train charlstm (tools/clgrad/charlstm.c) and the rnn/lstm model
# names: a tiny run on a small text (bits per character, a sample) and the
# usage errors. Part of `errors`: no dataset needed, a few seconds.
recurrent_checks() {
    for i in 1 2 3 4 5 6 7 8; do echo "the cat sat on the mat. the dog sat on the log."; done \
        >"$work/tiny.txt"
    run charlstm_run train charlstm --data "$work/tiny.txt" --epochs 2 --batch 2 --bptt 8 \
        --hidden 8 --embed 4 --length 20 --temperature 0.5 --prime "the " \
        --save "$work/charlstm.safetensors"
    expect_ok charlstm_run
    expect_out charlstm_run '^epoch 2: train [0-9.]+, validation [0-9.]+ bits per character'
    expect_out charlstm_run '^sample at temperature 0.5:'
    expect_out charlstm_run '^checkpoint written to .*charlstm.safetensors'
    # The saved weights load back: the same validation figure and, from the
    # same seed, the same sampled passage.
    run charlstm_load train charlstm --data "$work/tiny.txt" --epochs 0 --batch 2 --bptt 8 \
        --length 20 --temperature 0.5 --prime "the " --load "$work/charlstm.safetensors"
    expect_ok charlstm_load
    trained=$(sed -n 's/^epoch 2: train [0-9.]*, validation \([0-9.]*\) bits.*/\1/p' \
        "$work/charlstm_run.out")
    expect_out charlstm_load "^.*charlstm.safetensors: validation $trained bits per character$"
    [ "$(sed -n '/^sample at/,$p' "$work/charlstm_run.out")" = \
      "$(sed -n '/^sample at/,$p' "$work/charlstm_load.out")" ] ||
        fail "charlstm_load: the loaded weights sample another passage"
    run charlstm_load_size train charlstm --data "$work/tiny.txt" --epochs 0 --hidden 16 \
        --load "$work/charlstm.safetensors"
    expect_error charlstm_load_size 1 'was saved with --hidden 8, not 16$'
    run charlstm_epochs0 train charlstm --data "$work/tiny.txt" --epochs 0
    expect_error charlstm_epochs0 2 '^clgrad: --epochs: 0 trains nothing'
    run charlstm_load_other train charlstm --data "$work/tiny.txt" --epochs 0 \
        --load "$work/charlstm-not-there.safetensors"
    expect_error charlstm_load_other 1 'charlstm-not-there.safetensors'
    run charlstm_temp0 train charlstm --data "$work/tiny.txt" --temperature 0
    expect_error charlstm_temp0 2 'temperature: "0" is not a number > 0'
    run charlstm_temp_neg train charlstm --data "$work/tiny.txt" --temperature=-1
    expect_error charlstm_temp_neg 2 'temperature: "-1" is not a number > 0'
    run charlstm_nofile train charlstm --data "$work/missing.txt"
    expect_error charlstm_nofile 1 'cannot open .*missing.txt'
    run charlstm_prime train charlstm --data "$work/tiny.txt" --prime "Z"
    expect_error charlstm_prime 2 "the character 'Z' does not occur"
    run lstm_hidden train lstm --hidden 8,8
    expect_error lstm_hidden 2 'hidden for lstm is one size'
    run unknown_model train transformer
    expect_error unknown_model 2 'models: lenet5, mlp, logreg, rnn, lstm, gru, charlstm, vae, gan, fraud\)'
    run tune_unknown_list tune transformer
    expect_error tune_unknown_list 2 'models: lenet5, mlp, logreg, rnn, lstm, gru\)'
}

# Hostile input (issue 12): numbers out of their domain, destinations that
# cannot be written, endless and malformed files, datasets that do not fit
# the model. A tiny fake Fashion-MNIST folder stands in for the real one, so
# this needs no dataset and takes seconds.
hostile_checks() {
    # fake_mnist DIR TRAIN_N TEST_N TRAIN_SIDE TEST_SIDE TRAIN_MAX_LABEL TEST_MAX_LABEL
    fake_mnist() {
        python3 - "$@" <<'PY'
import os, struct, sys
folder, n_train, n_test, side_train, side_test, top_train, top_test = sys.argv[1:]
os.makedirs(folder, exist_ok=True)
def write(name, dims, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data)
for split, n, side, top in (("train", n_train, side_train, top_train), ("t10k", n_test, side_test, top_test)):
    n, side, top = int(n), int(side), int(top)
    write(split + "-images-idx3-ubyte", [n, side, side], bytes((7 * k) % 256 for k in range(n * side * side)))
    write(split + "-labels-idx1-ubyte", [n], bytes(top if i == n - 1 else i % 10 for i in range(n)))
PY
    }
    # Numbers: the whole text a number, in range, and alive as a float.
    run lr_tiny train mlp --lr 1e-50
    expect_error lr_tiny 2 '^clgrad: --lr: 1e-50 is too small for a 32-bit float'
    run lr_denormal train mlp --lr 1e-40
    expect_error lr_denormal 2 'too small for a 32-bit float'
    run lr_huge train mlp --lr 1e39
    expect_error lr_huge 2 '^clgrad: --lr: 1e39 is too large for a 32-bit float'
    run lr_underflow train mlp --lr 1e-400
    expect_error lr_underflow 2 '^clgrad: --lr: 1e-400 is out of range'
    run lr_hex train mlp --lr 0x1p-3
    expect_error lr_hex 2 '^clgrad: --lr: "0x1p-3" is not a number'
    run lr_space train mlp --lr " 0.1"
    expect_error lr_space 2 'is not a number'
    run seed_space train mlp --seed " -1"
    expect_error seed_space 2 '^clgrad: --seed: '
    run epochs_plus train mlp --epochs +3
    expect_error epochs_plus 2 '^clgrad: --epochs: "\+3" is not a whole number$'
    run eps_tiny attack fgsm --load x --eps 0.1,1e-50
    expect_error eps_tiny 2 '^clgrad: --eps: 1e-50 is too small'
    run fpr_one fraud --data x --fpr 1
    expect_error fpr_one 2 '^clgrad: --fpr: "1" is not a rate'
    run threshold_inf fraud --data x --threshold inf
    expect_error threshold_inf 2 '^clgrad: --threshold: "inf" is not a number$'

    fake_mnist "$work/fake" 20 10 28 28 9 9
    # Destinations checked before training: a device node is refused and
    # stays a device; a missing folder is named.
    run save_device train logreg --data "$work/fake" --epochs 1 --save /dev/full
    expect_error save_device 1 '^clgrad: --save: /dev/full is a character device, not a regular file'
    [ -c /dev/full ] || fail "save_device: /dev/full is no longer a character device"
    run save_folder train logreg --data "$work/fake" --epochs 1 --save "$work"
    expect_error save_folder 1 'is a folder, not a regular file'
    run save_nowhere train logreg --data "$work/fake" --epochs 1 --save "$work/none/m.safetensors"
    expect_error save_nowhere 1 "folder $work/none does not exist"

    # Endless and special files: a bounded read and an error naming the file.
    run_bounded eval_zero eval --load /dev/zero
    expect_error eval_zero 1 '^clgrad: /dev/zero: not a safetensors file'
    run_bounded fraud_zero fraud --data /dev/zero
    expect_error fraud_zero 1 '/dev/zero: line 1: a NUL byte'
    run eval_folder eval --load "$work"
    expect_error eval_folder 1 'is a folder, not a file'

    # Test labels outside the model's classes, named with their file.
    fake_mnist "$work/label200" 20 10 28 28 9 200
    run label200 train mlp --data "$work/label200" --epochs 1 --hidden 8 --save "$work/l.safetensors"
    expect_error label200 1 "label200/t10k-labels-idx1-ubyte: label 200 \(of sample 9\) is outside the model's 10 classes"
    # Empty splits, and splits of different image sizes, before any epoch.
    fake_mnist "$work/empty_test" 20 0 28 28 9 9
    run empty_test train logreg --data "$work/empty_test" --epochs 1 --save "$work/e.safetensors"
    expect_error empty_test 1 'empty_test/t10k-images-idx3-ubyte: no images \(the t10k split is empty\)'
    fake_mnist "$work/empty_train" 0 10 28 28 9 9
    run empty_train train logreg --data "$work/empty_train" --epochs 1 --save "$work/e.safetensors"
    expect_error empty_train 1 'empty_train/train-images-idx3-ubyte: no images'
    fake_mnist "$work/sizes" 20 10 28 14 9 9
    run sizes train logreg --data "$work/sizes" --epochs 1 --save "$work/s.safetensors"
    expect_error sizes 1 'sizes/train-images-idx3-ubyte has rows of 784 features but .*sizes/t10k-images-idx3-ubyte of 196'
    grep -q '^epoch' "$work/sizes.out" && fail "sizes: an epoch ran before the check"

    # More than ten classes: train, eval and attack --out name classes by
    # number, with no table indexed past its end.
    fake_mnist "$work/classes13" 30 10 28 28 12 12
    run train13 train mlp --data "$work/classes13" --epochs 1 --hidden 8 --save "$work/c13.safetensors"
    expect_ok train13
    expect_out train13 '^training mlp 784-8-13 '
    run eval13 eval --load "$work/c13.safetensors" --data "$work/classes13"
    expect_ok eval13
    expect_out eval13 '^12 +( +[0-9]+){13} '
    run attack13 attack fgsm --load "$work/c13.safetensors" --data "$work/classes13" --eps 0.1 \
        --out "$work/fgsm13"
    expect_ok attack13
    [ -s "$work/fgsm13/fgsm.png" ] || fail "attack13: no fgsm.png"

    # A checkpoint of NaN weights loads, with a warning from the tool.
    python3 - "$work/c13.safetensors" "$work/nan.safetensors" <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
begin, end = header["fc2.bias"]["data_offsets"]
body = bytearray(data[8 + n:])
body[begin:end] = struct.pack("<f", float("nan")) * ((end - begin) // 4)
open(sys.argv[2], "wb").write(data[:8 + n] + bytes(body))
open(sys.argv[2] + ".trailing", "wb").write(data + b"\0")
PY
    run eval_nan eval --load "$work/nan.safetensors" --data "$work/classes13"
    expect_ok eval_nan
    grep -q "^clgrad: warning: $work/nan.safetensors holds 13 NaN or infinite weights (first in \"fc2.bias\")" \
        "$work/eval_nan.err" || fail "eval_nan: no warning: $(cat "$work/eval_nan.err")"
    run eval_trailing eval --load "$work/nan.safetensors.trailing" --data "$work/classes13"
    expect_error eval_trailing 1 '1 bytes after the last tensor'

    # Checkpoint saves remove the temporaries of dead processes, not of live ones.
    touch "$work/c13.safetensors.tmp.999999999" "$work/c13.safetensors.tmp.$$"
    run retrain13 train mlp --data "$work/classes13" --epochs 1 --hidden 8 --save "$work/c13.safetensors"
    expect_ok retrain13
    [ -e "$work/c13.safetensors.tmp.999999999" ] && fail "retrain13: a dead process's temporary is left"
    [ -e "$work/c13.safetensors.tmp.$$" ] || fail "retrain13: a live process's temporary was removed"
}

# Your own data (NumPy .npz and CSV fixtures written by tools/golden/gen_npz.py:
# three Gaussian blobs in 6 dimensions), --metrics, and clgrad summary.
owndata_checks() {
    local npz
    npz=$(cd "$(dirname "$0")/../golden/npz" && pwd)

    run own_val train mlp --data "$npz/blobs_train.npz" --val-split 0.1 --epochs 5 \
        --metrics "$work/own.csv" --save "$work/own.safetensors"
    expect_ok own_val
    expect_out own_val '^data: .*blobs_train\.npz, 6 features, 3 classes; 100 samples held out for validation'
    expect_out own_val '^900 samples, 5 epochs'
    expect_out own_val '^epoch 5/5  loss [0-9.]+ .* validation accuracy [0-9.]+%$'
    grep -q 'test accuracy' "$work/own_val.out" && fail "own_val: a validation run speaks of test accuracy"
    local accuracy
    accuracy=$(sed -n 's/^trained in .* final validation accuracy \([0-9.]*\)%$/\1/p' "$work/own_val.out")
    awk -v a="$accuracy" 'BEGIN { exit !(a >= 90) }' || fail "own_val: accuracy '$accuracy' below 90%"
    # --metrics: a header, one row per epoch, the last accuracy the one printed,
    # the loss falling, no temporary left behind.
    [ "$(head -n 1 "$work/own.csv")" = "epoch,train_loss,val_loss,val_accuracy,seconds" ] ||
        fail "own_val: metrics header '$(head -n 1 "$work/own.csv")'"
    [ "$(wc -l <"$work/own.csv")" = 6 ] || fail "own_val: metrics has $(wc -l <"$work/own.csv") lines, expected 6"
    awk -F, -v a="$accuracy" 'NR == 2 { first = $2 } NR == 6 { last = $2; acc = $4; s = $5 }
        END { exit !(last < first && (acc * 100 - a) ^ 2 < 1e-4 && s > 0) }' "$work/own.csv" ||
        fail "own_val: metrics rows do not fit the run: $(cat "$work/own.csv")"
    [ -e "$work/own.csv.tmp" ] && fail "own_val: metrics temporary left"

    # A real test set, as .npz and as CSV with its label column named.
    run own_test train logreg --data "$npz/blobs_train.npz" --test "$npz/blobs_test.npz" \
        --epochs 5 --save "$work/own2.safetensors"
    expect_ok own_test
    expect_out own_test '^epoch 5/5  .* test accuracy [0-9.]+%$'
    expect_out own_test '; test set .*blobs_test\.npz \(200 samples\)'
    run own_csv train mlp --data "$npz/blobs_train.npz" --test "$npz/blobs_test.csv" \
        --label class --epochs 2 --save "$work/own3.safetensors"
    expect_ok own_csv
    expect_out own_csv 'test set .*blobs_test\.csv \(200 samples\)'
    # clgrad eval reads the same test set, as .npz and as CSV, and finds the
    # accuracy training printed; training's last line says how.
    expect_out own_test 'clgrad eval --load .*own2\.safetensors --data .*blobs_test\.npz\)$'
    local trained_test
    trained_test=$(sed -n 's/^trained in .* final test accuracy \([0-9.]*%\)$/\1/p' "$work/own_test.out")
    run own_eval eval --load "$work/own2.safetensors" --data "$npz/blobs_test.npz"
    expect_ok own_eval
    expect_out own_eval "^test accuracy $trained_test \\(.* of 200\\)$"
    run own_eval_csv eval --load "$work/own2.safetensors" --data "$npz/blobs_test.csv" --label class
    expect_ok own_eval_csv
    expect_out own_eval_csv "^test accuracy $trained_test "
    run own_eval_label eval --load "$work/own2.safetensors" --data "$npz/blobs_test.npz" --label class
    expect_error own_eval_label 2 '^clgrad: eval: --label applies to --data FILE\.csv'
    run own_eval_features eval --load "$work/own2.safetensors" --data "$npz/images_u8.npz"
    expect_error own_eval_features 1 'takes 6 inputs, but .*images_u8\.npz.* has 784 features per sample'

    # What is wrong with the command line or the data, said in one line.
    run own_no_held train mlp --data "$npz/blobs_train.npz"
    expect_error own_no_held 2 'give --test FILE or --val-split F'
    run own_both train mlp --data "$npz/blobs_train.npz" --test "$npz/blobs_test.npz" --val-split 0.1
    expect_error own_both 2 '--test and --val-split'
    run own_split_one train mlp --data "$npz/blobs_train.npz" --val-split 1
    expect_error own_split_one 2 '^clgrad: --val-split: 1 is not a fraction'
    run own_label_npz train mlp --data "$npz/blobs_train.npz" --val-split 0.1 --label y
    expect_error own_label_npz 2 '^clgrad: --label: '
    run own_test_folder train mlp --test "$npz/blobs_test.npz"
    expect_error own_test_folder 2 'Fashion-MNIST brings its own test set'
    run own_lenet train lenet5 --data "$npz/blobs_train.npz" --val-split 0.1
    expect_error own_lenet 1 'lenet5 takes 28x28 images \(784 features\).*6 features and 3 classes'
    run own_mismatch train mlp --data "$npz/shape_mismatch.npz" --val-split 0.1
    expect_error own_mismatch 1 "shape_mismatch\.npz: array 'y': shape \(10,\) but x has 12 rows"
    run own_features train mlp --data "$npz/images_u8.npz" --test "$npz/blobs_test.npz"
    expect_error own_features 1 'rows of 784 features but .*blobs_test\.npz.* of 6'
    run own_csv_label train mlp --data "$npz/blobs_test.csv" --val-split 0.1
    expect_error own_csv_label 1 'no column named "label".*"f0,f1,f2,class,f3,f4,f5"'
    run own_npy train mlp --data "$npz/plain.npy" --val-split 0.1
    expect_error own_npy 1 'neither a folder \(Fashion-MNIST\), a \.npz nor a \.csv'
    run own_metrics_dir train mlp --data "$npz/blobs_train.npz" --val-split 0.1 --metrics "$work"
    expect_error own_metrics_dir 1 '^clgrad: --metrics: .* is a folder'

    # clgrad summary: PyTorch's counts (sum(p.numel())) for the defaults,
    # LeNet-5's shapes, and a checkpoint trained on the blobs.
    run sum_mlp summary --model mlp
    expect_ok sum_mlp
    expect_out sum_mlp '^  fc1 +Linear\(784, 256\) +\(N, 256\) +200,960$'
    expect_out sum_mlp '^total parameters: 235,146 \(6 tensors'
    run sum_lenet summary --model lenet5
    expect_ok sum_lenet
    expect_out sum_lenet '^  conv2 +Conv2d\(6, 16, 5x5\) +\(N, 16, 10, 10\) +2,416$'
    expect_out sum_lenet '^ +MaxPool2d\(2\) +\(N, 16, 5, 5\) +0$'
    expect_out sum_lenet '^total parameters: 61,706 '
    run sum_load summary --load "$work/own.safetensors"
    expect_ok sum_load
    expect_out sum_load '^mlp 6-256-128-3 '
    expect_out sum_load '^total parameters: 35,075 '
    run sum_none summary
    expect_error sum_none 2 'give --load FILE or --model NAME'
    run sum_both summary --model mlp --load "$work/own.safetensors"
    expect_error sum_both 2 'give --load FILE or --model NAME'
    run sum_act summary --model mlp --activation tanh
    expect_error sum_act 2 '--activation applies to lenet5 only'
}

case $part in
errors) errors; owndata_checks; lecture_checks; fraud_checks; generative_checks; recurrent_checks; hostile_checks ;;
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
