#!/bin/bash
# fuzz/run.sh [SECONDS] [HARNESS...]: builds the libFuzzer harnesses (clang,
# -fsanitize=fuzzer,address,undefined) in build-fuzz/ and runs each for
# SECONDS (default 60), one after the other, from the committed seeds in
# fuzz/corpus/<harness>/; new inputs go to build-fuzz/corpus/<harness>/ and
# any crash to build-fuzz/crashes/<harness>/. Prints each harness's
# executions; exits non-zero on the first crash. FUZZ_JOBS=N runs N harnesses
# at once; FUZZ_RUNS=N stops each after N executions (or SECONDS, whichever
# comes first). Needs clang (apt-get install clang).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(idx csv npz safetensors checkpoint cache)
build=${FUZZ_BUILD:-$root/build-fuzz}

command -v clang >/dev/null || { echo "fuzz/run.sh: clang is missing (apt-get install clang)" >&2; exit 1; }
if [ ! -d "$build/meson-private" ]; then
    CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null

# LeakSanitizer: the harnesses never touch the OpenCL driver, so no
# suppressions; the rss limit catches a reader that allocates what a file only
# claims.
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

run_one() {
    local name=$1
    local corpus=$build/corpus/$name crashes=$build/crashes/$name
    mkdir -p "$corpus" "$crashes"
    local log=$build/fuzz-$name.log
    if "$build/fuzz/fuzz_$name" "$corpus" "$root/fuzz/corpus/$name" -max_total_time="$seconds" \
        -rss_limit_mb=1024 -malloc_limit_mb=512 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$crashes/" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} >"$log" 2>&1; then
        local runs
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        printf '%-12s %12s executions in %ss, no crash\n' "$name" "$runs" "$seconds"
    else
        printf '%-12s CRASH: see %s and %s\n' "$name" "$log" "$crashes" >&2
        tail -n 40 "$log" >&2
        return 1
    fi
}

status=0
jobs=${FUZZ_JOBS:-1}
if [ "$jobs" -le 1 ]; then
    for name in "${harnesses[@]}"; do run_one "$name" || status=1; done
else
    pids=()
    for name in "${harnesses[@]}"; do
        run_one "$name" &
        pids+=($!)
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
    done
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
fi
exit $status
