#!/bin/bash
# tests/oclgrind.sh [BUILD_DIR]: the op suites (tests/ops/), the GEMM suite
# (tests/cl/test_gemm.c) and the optimizer suite (tests/optim/) under
# oclgrind, which simulates an OpenCL 1.2 GPU and reports out-of-bounds
# accesses, data races, barrier divergence and API misuse. Each suite runs
# once per launch plan (CLGRAD_LAUNCH=cpu, then gpu; override the list with
# OCLGRIND_PLANS="gpu"). Fails when a suite fails or oclgrind reports
# anything, and prints each suite's time.
#
# Why it runs as it does:
# - CK_FORK=no: oclgrind's worker threads do not survive Check's fork().
# - CLGRAD_TEST_SMALL=1: the suites shrink their largest shapes
#   (tests/support's test_size), since oclgrind interprets every work-item.
# - oclgrind exits 0 whatever it reports (21.10 has no option to change
#   that), so its reports go to a file (--log) that must stay empty.
# - No --uninitialized: oclgrind 21.10's plugin loses host writes at a
#   nonzero offset. Its hostMemoryStore re-creates the shadow of the whole
#   buffer with the size of the write (uninitialised bytes), then stores the
#   "clean" shadow at the write's offset, which no longer fits, so it is
#   dropped: every upload into the step arena (offset > 0) and everything
#   kernels wrote there before reads as uninitialised, and later the plugin
#   itself segfaults (in Uninitialized::instructionExecuted). Shown by a
#   20-line program: clEnqueueWriteBuffer of 24 floats at byte 256 of a
#   fresh buffer, blocking or not, then a kernel copying them out: 24
#   reports at offset 256, none at offset 0.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${1:-build}
plans=${OCLGRIND_PLANS:-cpu gpu}
logs=$build/oclgrind-logs
mkdir -p "$logs"

command -v oclgrind >/dev/null || { echo "oclgrind is not installed (apt-get install oclgrind)"; exit 1; }
# The suites must see oclgrind's device and no other.
if ! oclgrind "$build/tools/clgrad" devices | grep -q Oclgrind; then
    echo "clgrad does not see oclgrind's device:"
    oclgrind "$build/tools/clgrad" devices
    exit 1
fi

# OCLGRIND_SUITES="ops/test_binary ops/test_conv" runs those alone.
suites=()
if [ -n "${OCLGRIND_SUITES:-}" ]; then
    # Every word, over as many lines as the list takes (read alone stops at the first newline).
    read -r -d '' -a suites <<<"$OCLGRIND_SUITES" || true
else
    for source in tests/ops/test_*.c tests/cl/test_gemm.c tests/optim/test_*.c; do
        name=${source#tests/}
        suites+=("${name%.c}")
    done
fi

export CK_FORK=no CLGRAD_TEST_SMALL=1 CK_DEFAULT_TIMEOUT=3600
export CLGRAD_CACHE_DIR=$PWD/$build/kernel-cache
failed=()
total_start=$SECONDS
for plan in $plans; do
    export CLGRAD_LAUNCH=$plan
    for suite in "${suites[@]}"; do
        exe=$build/tests/${suite//\//_}
        log=$logs/${suite//\//_}.$plan
        start=$SECONDS
        oclgrind --data-races --check-api --log "$log.oclgrind" "$exe" >"$log.out" 2>&1
        rc=$?
        printf '%-22s plan=%s %4ds exit %d, %d lines of oclgrind reports\n' "$suite" "$plan" \
            $((SECONDS - start)) "$rc" "$(wc -l <"$log.oclgrind")"
        if [ "$rc" -ne 0 ] || [ -s "$log.oclgrind" ]; then
            failed+=("$suite ($plan)")
            tail -n 20 "$log.out"
            head -n 60 "$log.oclgrind"
        fi
    done
done
echo "oclgrind: ${#suites[@]} suites x plans ($plans) in $((SECONDS - total_start)) s"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "failed under oclgrind: ${failed[*]} (logs in $logs)"
    exit 1
fi
