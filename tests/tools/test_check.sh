#!/bin/bash
# tests/tools/test_check.sh: clgrad check, driven as a user would.
#   test_check.sh CLGRAD SOURCE_ROOT
# A plain run passes every op ("N passed, 0 failed", exit 0). Then, for each
# fault below, a copy of the kernel sources with one formula altered, read
# through CLGRAD_KERNEL_DIR: the check must exit 1 with exactly one FAIL line
# per op that uses the formula, each naming its op. Exits 77 (meson's skip) without an OpenCL device.
# Run by meson test (tools/meson.build).
set -u

clgrad=$(realpath "$1")
src=$(realpath "$2")
# shellcheck source=run_clgrad.sh
. "$(dirname "$0")/run_clgrad.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

if ! "$clgrad" devices >/dev/null 2>&1; then
    echo "no OpenCL device: skipping"
    exit 77
fi

# Outside the source tree: the compiler looks for a kernel's quoted
# #include next to the including file first, which for a source passed as
# text is the working directory; from the source root it would find the
# unaltered ops/activation_math.cl there.
cd "$work" || exit 1

run_clgrad "$work/plain.out" "$work/plain.err"  check
rc=$?
cat "$work/plain.out"
[ "$rc" = 0 ] || fail "plain run: exit $rc, expected 0: $(cat "$work/plain.err")"
grep -Eq '^[0-9]+ passed, 0 failed$' "$work/plain.out" ||
    fail "plain run: no 'N passed, 0 failed' line"
if grep -q '^FAIL' "$work/plain.out"; then
    fail "plain run: an op failed"
fi
passed=$(grep -c '^ok ' "$work/plain.out")
[ "$passed" -ge 50 ] || fail "plain run: only $passed ops checked"

# --op: one op; an unknown name is a usage error that lists the ops.
if ! run_clgrad "$work/one.out" "$work/one.err" check --op softmax ||
    ! grep -Eq '^ok +softmax ' "$work/one.out" || ! grep -q '^1 passed, 0 failed$' "$work/one.out"; then
    fail "--op softmax: $(cat "$work/one.out" "$work/one.err")"
fi
run_clgrad "$work/bad.out" "$work/bad.err" check --op no_such_op
rc=$?
if [ "$rc" != 2 ] || ! grep -q 'log_softmax' "$work/bad.err"; then
    fail "--op no_such_op: exit $rc: $(cat "$work/bad.err")"
fi

# altered "OPS" FILE FROM TO: the kernels with FROM replaced by TO in FILE;
# OPS, the cases that use it, must fail and no other.
altered() {
    local ops=$1 file=$2 from=$3 to=$4
    local op=${ops%% *} dir="$work/kernels-${ops%% *}"
    mkdir -p "$dir"
    (cd "$src" && find . -name '*.cl' -not -path './build*' -not -path './subprojects/*' \
        -exec cp --parents {} "$dir" \;)
    grep -qF "$from" "$dir/$file" || { fail "$op: \"$from\" is not in $file any more"; return; }
    local escaped_from escaped_to
    escaped_from=$(printf '%s' "$from" | sed 's/[][\.*^$/]/\\&/g')
    escaped_to=$(printf '%s' "$to" | sed 's/[\&/]/\\&/g')
    sed -i "s/$escaped_from/$escaped_to/" "$dir/$file"
    grep -qF "$to" "$dir/$file" || { fail "$op: the alteration did not apply"; return; }
    # The cache key hashes the expanded source, so the unaltered programs
    # come from the cache and only the altered one is built.
    CLGRAD_KERNEL_DIR=$dir run_clgrad "$work/$op.out" "$work/$op.err" check
    rc=$?
    echo "--- $file altered ($from -> $to): exit $rc"
    grep -v '^ok ' "$work/$op.out"
    [ "$rc" = 1 ] || fail "$op altered: exit $rc, expected 1: $(cat "$work/$op.err")"
    local fails want=0 name
    fails=$(grep -c '^FAIL' "$work/$op.out")
    for name in $ops; do
        want=$((want + 1))
        grep -Eq "^FAIL +$name " "$work/$op.out" || fail "$op altered: no FAIL line naming $name"
    done
    [ "$fails" = "$want" ] || fail "$op altered: expected $want FAIL lines ($ops), got $fails"
    grep -Eq "^[0-9]+ passed, $want failed\$" "$work/$op.out" ||
        fail "$op altered: no 'N passed, $want failed'"
}

# elu's derivative (backward only) and mul's forward
altered "elu bias_elu" ops/activation_math.cl 'x <= 0.0f ? g * p0 * exp(x) : g' \
    'x <= 0.0f ? g * p0 * exp(0.9f * x) : g'
altered mul ops/binary.cl 'case 2: return x * y;' 'case 2: return x * y * 1.001f;'

exit $((failures > 0))
