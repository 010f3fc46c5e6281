# tests/tools/run_clgrad.sh, sourced by the command-line tests:
# run_clgrad OUT ERR ARGS... runs "$clgrad" ARGS with stdout in OUT and
# stderr in ERR, and returns its exit status.
#
# Under AddressSanitizer, LeakSanitizer stops every thread of the process at
# exit to scan for leaks, and its tracer now and then crashes doing so
# ("Tracer caught signal 11 ... LeakSanitizer has encountered a fatal error",
# google/sanitizers#1353; seen here once in a few hundred runs, with PoCL's
# worker threads alive). That says nothing about clgrad, so the command runs
# again, once, saying so on stdout. A leak report ("detected memory leaks")
# is not that message and still fails the check that reads ERR.
#
# The rerun must start where the first attempt did. A GEMM table that the
# first attempt wrote into $CLGRAD_CACHE_DIR (`clgrad tune`) would make the
# rerun launch the candidates its timings chose: programs the plain pass may
# never have built, so PoCL compiles them under the sanitizer and leaks its
# 16-byte compiler object (tests/sanitizers/lsan.supp). That is how a tracer
# crash in `clgrad tune --model rnn` once became a leak report. So the
# tables (a few hundred bytes) are kept aside and put back before the rerun.
run_clgrad() {
    local out=$1 err=$2
    shift 2
    local dir=${CLGRAD_CACHE_DIR:-} tables=
    if [ -n "$dir" ] && [ -d "$dir" ]; then
        tables=$(mktemp -d) || return 1
        find "$dir" -maxdepth 1 -name 'gemm-*.txt' -exec cp -p {} "$tables" \;
    fi
    "$clgrad" "$@" >"$out" 2>"$err"
    local code=$?
    if [ "$code" -ne 0 ] && grep -q "LeakSanitizer has encountered a fatal error" "$err"; then
        echo "(LeakSanitizer's own tracer crashed at exit: running clgrad $* again)"
        if [ -n "$tables" ]; then
            find "$dir" -maxdepth 1 -name 'gemm-*.txt' -delete
            find "$tables" -maxdepth 1 -name 'gemm-*.txt' -exec cp -p {} "$dir" \;
        fi
        "$clgrad" "$@" >"$out" 2>"$err"
        code=$?
    fi
    [ -z "$tables" ] || rm -rf "$tables"
    return "$code"
}
