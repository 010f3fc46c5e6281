#!/bin/bash
# bench/gpu-check.sh: one prepared run of everything that says whether clgrad works and how
# fast it is on a device: the op suites, clgrad-bench --parallelism, clgrad-bench, gemm-bench,
# conv-bench, one LeNet-5 epoch, then the rest of the test suite, within a wall-time budget
# (8 minutes), every log in one folder and a summary of the figures README wants.
#
# It is written for a lent machine with an NVIDIA GPU and no package access (the device
# tool's): there it registers the driver's OpenCL library (libnvidia-opencl.so.1) for the ICD
# loader and runs binaries and libraries prepared here. It runs the same way on any OpenCL
# device, so it is proven on PoCL and rusticl. bench/README.md says how to run it.
#
#   bench/gpu-check.sh --prepare [DIR]    here, with apt: build, then DIR (default .gpucheck)
#                                         gets the binaries, the test list, the Debian runtime
#                                         packages (apt-get download + dpkg -x) and the data
#   bench/gpu-check.sh [options] DEVICE   run on DEVICE (a CLGRAD_DEVICE spec: gpu, pthread,
#                                         llvmpipe, 0:0, ...); logs in $OUT if set, else --logs
#
# Run options:
#   --dir DIR         the prepared folder (default .gpucheck in the repository root); without
#                     one, the build folder (--build-dir) is used and built if needed
#   --build-dir B     an ordinary meson build folder to use instead (default build)
#   --logs DIR        where the logs go when $OUT is not set (default gpu-check-logs)
#   --budget S        wall-time budget in seconds (default 480)
#   --quick           for CPUs: smaller runs (gemm-bench on the MLP's shapes only,
#                     clgrad-bench --quick without matmul or start-up, conv-bench 1 rep, the
#                     LeNet-5 epoch on 1,280 images); a GPU run should do the full thing
#   --icd LIB         register LIB as the only OpenCL driver instead of searching for
#                     NVIDIA's and keeping the system's (tests the registration on any machine)
#   --carried-libs all|missing
#                     which carried libraries to use: every one, or (default) the ICD loader
#                     and CLBlast always and the others only where the system lacks them
#   --no-suite        skip the rest of the test suite (the op suites still run)
# Exit status: 0 when every step that ran passed, 1 when one failed, 2 on bad usage.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prog=bench/gpu-check.sh
# Packages whose libraries are always taken from the prepared folder: the ICD loader (so that
# OCL_ICD_VENDORS means what this script expects) and CLBlast (absent on the GPU machine).
always_libs='libOpenCL.so* libclblast.so*'

die() {
    echo "$prog: $*" >&2
    exit 2
}

# Tests of the smoke step: every op suite, the GEMM layer and the optimizers.
is_smoke() {
    case $1 in
    ops/* | cl/test_gemm | optim/test_optim) return 0 ;;
    *) return 1 ;;
    esac
}

# order_tests: the manifest with the op suites first, then the optimizers, then the GEMM
# layer (the longest of them); then the library's other suites, the command line's, and the
# models' last (they train): on a slow device the budget runs out on the fewest suites.
order_tests() {
    awk -F'\t' '{ p = 3 }
        $1 ~ /^ops\// { p = 0 }
        $1 == "optim/test_optim" { p = 1 }
        $1 == "cl/test_gemm" { p = 2 }
        $1 ~ /^tools\// { p = 4 }
        $1 ~ /^zoo\// { p = 5 }
        { print p "\t" $0 }' | sort -s -t$'\t' -k1,1n | cut -f2-
}

# ---------------------------------------------------------------------------------------
# --prepare: everything a run needs, in one folder that the device tool can carry.
# ---------------------------------------------------------------------------------------

# write_manifest BUILD FILE: one line per meson test: name, timeout, then the command as
# shell words, with the build and source folders written @BUILD@ and @SRC@ so that the list
# works wherever the folders land.
write_manifest() {
    meson introspect "$1" --tests | python3 -c '
import json, os, shlex, sys
build, src = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
def place(word):
    if word.startswith("/"):
        word = os.path.normpath(word)
        for path, name in ((build, "@BUILD@"), (src, "@SRC@")):
            if word == path or word.startswith(path + "/"):
                return name + word[len(path):]
    return word
# Set by the run itself (cache, data, library path).
skip = {"CLGRAD_CACHE_DIR", "CLGRAD_FASHION_MNIST", "LD_LIBRARY_PATH"}
for t in json.load(sys.stdin):
    env = ["%s=%s" % (k, place(v)) for k, v in sorted(t["env"].items()) if k not in skip]
    words = env + [place(w) for w in t["cmd"]]
    print("%s\t%s\t%s" % (t["name"], t["timeout"] or 0, " ".join(shlex.quote(w) for w in words)))
' "$1" "$root" >"$2"
}

# ensure_build B: configure (if needed) and bring the meson build folder B up to date.
ensure_build() {
    { command -v meson && command -v ninja; } >/dev/null ||
        { echo "meson and ninja are needed to build $1"; return 1; }
    if [ ! -f "$1/build.ninja" ]; then
        meson setup "$1" "$root" || return 1
    fi
    ninja -C "$1"
}

# glibc_needed DIR: the newest glibc symbol version the ELF files under DIR ask for.
glibc_needed() {
    find "$1" -type f -exec objdump -T {} + 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1
}

prepare() {
    local dir=$1 build=$2 data=$3
    case $dir in /*) ;; *) dir=$root/$dir ;; esac
    case $build in /*) ;; *) build=$root/$build ;; esac
    { command -v apt-get && command -v dpkg; } >/dev/null || die "--prepare needs apt-get and dpkg"
    echo "== building $build"
    ensure_build "$build" || die "the build failed"
    rm -rf "$dir"
    mkdir -p "$dir/build" "$dir/root" || die "cannot create $dir"

    echo "== binaries -> $dir/build"
    write_manifest "$build" "$dir/tests.list" || die "meson introspect failed"
    local files=() f
    (cd "$build" && ls -d libclgrad.so* tools/clgrad bench/*-bench) >/dev/null || die "incomplete build"
    while read -r f; do files+=("$f"); done < <(
        cd "$build" && ls -d libclgrad.so* tools/clgrad bench/*-bench
        sed -n 's/.*@BUILD@\/\([^ '"'"']*\).*/\1/p' "$dir/tests.list")
    for f in "${files[@]}"; do
        [ -e "$build/$f" ] || continue
        mkdir -p "$dir/build/$(dirname "$f")"
        cp -a "$build/$f" "$dir/build/$f"
        # Debug sections are most of the size; symbols stay for backtraces.
        [ -L "$dir/build/$f" ] || strip --strip-debug "$dir/build/$f" 2>/dev/null || true
    done

    echo "== runtime packages -> $dir/root"
    # Every library the binaries load, found by ldd here, then the package that holds it;
    # glibc is the machine's own (the binaries need 2.35 or newer: checked at run time).
    local libs pkgs=() p
    libs=$(cd "$dir/build" && for f in libclgrad.so.* tools/* bench/* tests/*; do
        [ -f "$f" ] && [ ! -L "$f" ] && LD_LIBRARY_PATH="$build" ldd "$f" 2>/dev/null
    done | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u)
    while read -r p; do
        pkgs+=("$p")
    done < <(for f in $libs; do
        # usrmerge: dpkg may know the file under /lib or /usr/lib, by link or real name.
        dpkg -S "$(realpath "$f")" 2>/dev/null || dpkg -S "$f" 2>/dev/null ||
            dpkg -S "$(dirname "$f")/$(basename "$(realpath "$f")")" 2>/dev/null
    done | cut -d: -f1 | sort -u | grep -v -x -E 'libc6|libc6-dev')
    # The ICD loader and CLBlast are named even if ldd did not reach them.
    pkgs+=(ocl-icd-libopencl1 libclblast1)
    local debs
    debs=$(mktemp -d)
    chmod 777 "$debs" # apt's sandbox user writes the downloads
    # The installed version where apt still has it, else apt's candidate (the archive keeps
    # only the newest point release); MANIFEST records what was taken.
    local versions=()
    for p in $(printf '%s\n' "${pkgs[@]}" | sort -u); do
        local v
        v=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null)
        mkdir -p "$debs/$p" && chmod 777 "$debs/$p"
        (cd "$debs/$p" && { apt-get download -q "$p${v:+=$v}" 2>/dev/null || apt-get download -q "$p"; }) >/dev/null ||
            die "apt-get download $p failed"
        f=$(echo "$debs/$p"/*.deb)
        versions+=("$p $(dpkg-deb -f "$f" Version) (installed here: ${v:-none})")
    done
    for f in "$debs"/*/*.deb; do
        dpkg -x "$f" "$dir/root" || die "dpkg -x $f failed"
    done
    rm -rf "$debs" "$dir/root/usr/share/doc" "$dir/root/usr/share/man" "$dir/root/usr/share/lintian"

    if [ -n "$data" ]; then
        echo "== data: $data -> $dir/data/fashion-mnist"
        if [ -d "$data" ]; then
            mkdir -p "$dir/data/fashion-mnist"
            cp "$data"/*-ubyte.gz "$dir/data/fashion-mnist/" || die "cannot copy $data"
        else
            echo "no data at $data: the LeNet-5 epoch and the accuracy tests will be skipped"
        fi
    fi

    {
        echo "commit $(git -C "$root" rev-parse -q --verify HEAD 2>/dev/null || echo unknown)$(
            [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' (with uncommitted changes)')"
        echo "source $root"
        echo "built $(date -u +%FT%TZ) on $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -m)"
        echo "glibc needed: binaries $(glibc_needed "$dir/build"), carried libraries $(glibc_needed "$dir/root")"
        printf 'package %s\n' "${versions[@]}"
    } >"$dir/MANIFEST"

    echo "== sizes"
    du -sh "$dir"/* | sed 's/^/  /'
    local tree carried
    tree=$(cd "$root" && { git ls-files -z; git ls-files -z --others --exclude-standard; } |
        du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
    carried=$(du -sb "$dir" | cut -f1)
    awk -v t="$tree" -v c="$carried" 'BEGIN {
        printf "  working tree %.1f MiB + %s %.1f MiB = %.1f MiB (the device tool carries 64 MiB)\n",
            t / 1048576, "prepared", c / 1048576, (t + c) / 1048576 }'
    echo "prepared: $dir ($(sed -n 1p "$dir/MANIFEST"))"
}

# ---------------------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------------------

log() {
    echo "[$(elapsed)s] $*" | tee -a "$logdir/gpu-check.log"
}
elapsed() { echo $(($(date +%s) - start)); }
left() { echo $((deadline - $(date +%s))); }

# Each step: name, result, seconds; the summary prints them.
step_lines=()
failed=0

# run_step NAME CAP CMD...: runs CMD with a timeout of CAP seconds (less if the budget is
# shorter), output to steps/NN-NAME.log; returns CMD's status (124: timed out, 125: skipped).
step_no=0
run_step() {
    local name=$1 cap=$2
    shift 2
    step_no=$((step_no + 1))
    local file
    file=$steps/$(printf '%02d' $step_no)-$name.log
    local t
    t=$(left)
    t=$((t - 10))
    [ "$t" -gt "$cap" ] && t=$cap
    if [ "$t" -lt 5 ]; then
        log "$name: skipped, out of time"
        step_lines+=("$name skipped (out of time)")
        echo "skipped: out of time" >"$file"
        return 125
    fi
    log "$name: $* (timeout ${t}s)"
    local t0 rc
    t0=$(date +%s)
    echo "\$ $*" >"$file"
    # Line-buffered, so that what a step printed before its timeout is in its log.
    # shellcheck disable=SC2086 # $linebuf is empty or a command and its options
    timeout -k 5 "$t" $linebuf "$@" >>"$file" 2>&1
    rc=$?
    local secs=$(($(date +%s) - t0))
    local what="exit $rc"
    [ $rc -eq 124 ] && what="timed out after ${t}s"
    [ $rc -eq 0 ] && what=ok
    log "$name: $what in ${secs}s"
    step_lines+=("$name $what, ${secs}s")
    [ $rc -eq 0 ] || failed=1
    return $rc
}

# run_tests NAME CAP FILTER: runs, one after another into one log, the manifest's tests that
# FILTER picks: smoke (the op suites), or rest (every test without a result yet, the smoke
# tests the smoke step had no time for included). Each test's timeout is its own, at most
# what is left of CAP; a test stopped by that (not by its own timeout) is "cut": no result, not
# a failure. tests.results gets a line per run: name, result, seconds.
run_tests() {
    local name=$1 cap=$2 filter=$3
    step_no=$((step_no + 1))
    local file
    file=$steps/$(printf '%02d' $step_no)-$name.log
    local t0 end
    t0=$(date +%s)
    end=$((t0 + cap))
    [ $end -gt $((deadline - 10)) ] && end=$((deadline - 10))
    log "$name: $filter tests until $((end - start))s of the budget"
    local n=0 pass=0 fail=0 skip=0 notrun=0 tname ttimeout tcmd
    : >"$file"
    while IFS=$'\t' read -r tname ttimeout tcmd; do
        if [ "$filter" = smoke ]; then
            is_smoke "$tname" || continue
        elif grep -q -E "^$tname (pass|skip|fail|timeout)" "$work/tests.results"; then
            continue
        fi
        n=$((n + 1))
        local t=$((end - $(date +%s))) own=0
        [ "$ttimeout" -gt 0 ] 2>/dev/null && [ "$t" -ge "$ttimeout" ] && t=$ttimeout own=1
        if [ "$t" -lt 5 ]; then
            notrun=$((notrun + 1))
            echo "$tname not-run" >>"$work/tests.results"
            continue
        fi
        tcmd=${tcmd//@BUILD@/$(printf '%q' "$build")}
        tcmd=${tcmd//@SRC@/$(printf '%q' "$root")}
        local s0 rc r
        s0=$(date +%s)
        echo "===== $tname (timeout ${t}s): $tcmd" >>"$file"
        (cd "$build" && eval "exec timeout -k 5 $t env $tcmd") >>"$file" 2>&1 </dev/null
        rc=$?
        case $rc in
        0) r=pass; pass=$((pass + 1)) ;;
        77) r=skip; skip=$((skip + 1)) ;;
        124)
            if [ $own -eq 1 ]; then
                r=timeout; fail=$((fail + 1))
            else
                r='cut'; notrun=$((notrun + 1))
            fi ;;
        *) r="fail($rc)"; fail=$((fail + 1)) ;;
        esac
        echo "===== $tname: $r in $(($(date +%s) - s0))s" >>"$file"
        echo "$tname $r $(($(date +%s) - s0))s" >>"$work/tests.results"
    done < <(order_tests <"$manifest")
    local secs=$(($(date +%s) - t0))
    local what="$pass passed, $fail failed, $skip skipped, $notrun cut or not run for time, of $n"
    log "$name: $what in ${secs}s"
    step_lines+=("$name $what, ${secs}s")
    [ $fail -eq 0 ] || failed=1
}

# fashion_subset SRC DST NTRAIN NTEST: the first images and labels of each Fashion-MNIST
# file, as IDX files whose header counts that many (the loader reads the count).
fashion_subset() {
    mkdir -p "$2"
    local f n hdr size
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        case $f in train*) n=$3 ;; *) n=$4 ;; esac
        case $f in *images*) hdr=16 size=784 ;; *) hdr=8 size=1 ;; esac
        {
            gzip -dc "$1/$f.gz" | head -c 4
            # shellcheck disable=SC2059 # the format is the four bytes of the count
            printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)))"
            gzip -dc "$1/$f.gz" | tail -c +9 | head -c $((hdr - 8 + n * size))
        } 2>/dev/null | gzip -1 >"$2/$f.gz"
    done
}

# find_nvidia_opencl: prints the path of the NVIDIA driver's OpenCL library, if any.
find_nvidia_opencl() {
    local d f
    for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu \
        /lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/cuda/lib64 /usr/local/cuda/compat \
        /usr/lib/x86_64-linux-gnu/nvidia/current /run/nvidia/driver/usr/lib/x86_64-linux-gnu; do
        for f in "$d"/libnvidia-opencl.so.1 "$d"/libnvidia-opencl.so.*; do
            [ -e "$f" ] && { echo "$f"; return 0; }
        done
    done
    f=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so/ && /x86-64/ && !f {f = $NF} END {print f}')
    [ -n "$f" ] && { echo "$f"; return 0; }
    # Last resort: the folders a driver may be mounted or installed under.
    f=$(timeout 20 find /usr /opt /lib /lib64 /run /etc \( -path "$root" -o -path /run/user \) -prune \
        -o -name 'libnvidia-opencl.so*' -print 2>/dev/null | sort | head -1)
    [ -n "$f" ] && { echo "$f"; return 0; }
    return 1
}

# register_opencl: a vendors folder for the ICD loader (OCL_ICD_VENDORS): --icd's library
# alone, or the system's .icd files plus the NVIDIA library if one is found and no system
# file names it already. Sets nvidia_dir to the NVIDIA library's folder (its dependencies,
# libcuda among them, live there).
register_opencl() {
    local vendors=$work/vendors f
    mkdir -p "$vendors"
    nvidia_lib='' nvidia_dir=''
    if [ -n "$icd_lib" ]; then
        echo "$icd_lib" >"$vendors/gpu-check.icd"
        log "OpenCL: --icd: $icd_lib is the only registered driver"
    else
        local named=0
        for f in /etc/OpenCL/vendors/*.icd; do
            [ -e "$f" ] || continue
            cp "$f" "$vendors/"
            grep -q libnvidia-opencl "$f" && named=1
            log "OpenCL: system driver $(basename "$f"): $(cat "$f")"
        done
        if nvidia_lib=$(find_nvidia_opencl); then
            nvidia_dir=$(dirname "$nvidia_lib")
            # The system's file may name it without a path the loader can resolve: ours does.
            if [ $named -eq 1 ]; then
                for f in "$vendors"/*.icd; do
                    grep -q libnvidia-opencl "$f" && rm -f "$f" && log "OpenCL: $(basename "$f") replaced by the path found"
                done
            fi
            echo "$nvidia_lib" >"$vendors/nvidia-gpu-check.icd"
            log "OpenCL: NVIDIA library $nvidia_lib registered"
        else
            nvidia_lib=''
            log "OpenCL: no NVIDIA OpenCL library (libnvidia-opencl.so*) in the driver folders," \
                "ldconfig -p or the file system: only the drivers above"
        fi
    fi
    export OCL_ICD_VENDORS=$vendors
}

# carried_libs DIR MODE: a folder of links, one per soname, to the prepared libraries this
# run uses.
carried_libs() {
    local lib=$work/lib f name used=() pat
    mkdir -p "$lib"
    # Read once into a file: `ldconfig -p | grep -q` fails under pipefail when grep's early
    # exit kills ldconfig with SIGPIPE.
    ldconfig -p >"$work/ldconfig.txt" 2>/dev/null
    for f in "$1"/root/usr/lib/x86_64-linux-gnu/*.so* "$1"/root/lib/x86_64-linux-gnu/*.so*; do
        # The packages ship each library's soname as a link (libX11.so.6): those are the
        # names the loader looks for.
        name=$(basename "$f")
        [[ $name =~ \.so\.[0-9]+$ ]] || continue
        local take=0
        for pat in $always_libs; do
            # shellcheck disable=SC2053
            [[ $name == $pat ]] && take=1
        done
        if [ "$2" = all ]; then
            take=1
        elif [ $take -eq 0 ]; then
            grep -q "^[[:space:]]*$name " "$work/ldconfig.txt" || take=1
        fi
        [ $take -eq 1 ] && ln -sf "$f" "$lib/$name" && used+=("$name")
    done
    log "carried libraries used ($2): ${used[*]:-none}"
    carried_lib_dir=$lib
}

# figure NAME VALUE: one line of the summary's figures.
figures=()
figure() { figures+=("$(printf '%-34s %s' "$1" "$2")"); }

summarize() {
    local s=$logdir/summary.txt f
    local st
    st=$steps
    {
        echo "gpu-check summary: $prog $device_arg (${quick:+quick, }budget ${budget}s, took $(elapsed)s)"
        echo "date:    $(date -u +%FT%TZ) on $(hostname 2>/dev/null || echo ?), $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), glibc $(ldd --version 2>/dev/null | awk 'NR==1 {print $NF}')"
        echo "build:   $build_note"
        echo
        echo "figures:"
        printf '  %s\n' "${figures[@]}"
        echo
        echo "steps:"
        printf '  %s\n' "${step_lines[@]}"
        if [ -s "$work/tests.results" ]; then
            echo
            echo "tests:"
            # A test's last line is its result (a cut smoke test may have run again later).
            awk '{ last[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
                END { for (i = 1; i <= n; i++) print order[i], last[order[i]] }' "$work/tests.results" >"$work/tests.final"
            awk '{ r = $2 ~ /^fail|^timeout/ ? "failed" : $2 ~ /^cut|^not-run/ ? "left" : $2; c[r]++ }
                END { printf "  %d passed, %d failed, %d skipped, %d not run for lack of time (of %d)\n",
                      c["pass"], c["failed"], c["skip"], c["left"], NR }' "$work/tests.final"
            grep -E ' (fail|timeout)' "$work/tests.final" | sed 's/^/  FAILED /'
            grep -E ' (cut|not-run)' "$work/tests.final" | awk '{printf "%s%s", (NR > 1 ? ", " : "  not run: "), $1} END {if (NR) print ""}'
        fi
        echo
        echo "logs: $logdir (gpu-check.log; every step's log in steps/ or steps.tar.gz and all-steps.log)"
    } >"$s"
    # One file with every step's log, readable where only a few files come back.
    for f in "$st"/*.log; do
        echo "##### $(basename "$f")"
        cat "$f"
    done >"$logdir/all-steps.log"
    if [ -n "${OUT:-}" ] && [ "$logdir" = "$OUT" ]; then
        # The device tool returns at most 8 files from $OUT: pack the step logs.
        tar -C "$logdir" -czf "$logdir/steps.tar.gz" steps && rm -rf "$st"
    fi
    echo
    cat "$s"
}

run_check() {
    start=$(date +%s)
    deadline=$((start + budget))
    if [ -n "${OUT:-}" ]; then
        logdir=$OUT
    else
        case $logs in /*) logdir=$logs ;; *) logdir=$PWD/$logs ;; esac
    fi
    mkdir -p "$logdir" || die "cannot create $logdir"
    logdir=$(cd "$logdir" && pwd)
    steps=$logdir/steps
    rm -rf "$steps" "$logdir/gpu-check.log" "$logdir/summary.txt" "$logdir/all-steps.log" "$logdir/steps.tar.gz"
    mkdir -p "$steps"
    work=$(mktemp -d /tmp/gpu-check.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    : >"$work/tests.results"

    log "gpu-check on device '$device_arg', budget ${budget}s, logs in $logdir"
    log "machine: $(uname -srm), $(nproc) cores, $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), glibc $(ldd --version 2>/dev/null | awk 'NR==1 {print $NF}')"
    [ "$(uname -m)" = x86_64 ] || log "warning: this machine is $(uname -m); the prepared binaries are x86-64"

    # The device: rusticl exposes llvmpipe only when asked.
    export CLGRAD_DEVICE=$device_arg
    if [ "$device_arg" = llvmpipe ] && [ -z "${RUSTICL_ENABLE:-}" ]; then
        export RUSTICL_ENABLE=llvmpipe
        log "RUSTICL_ENABLE=llvmpipe set (rusticl's llvmpipe device)"
    fi
    export POCL_AFFINITY=${POCL_AFFINITY:-1}
    linebuf=''
    command -v stdbuf >/dev/null && linebuf='stdbuf -oL -eL'
    export CLGRAD_CACHE_DIR=$work/kernel-cache
    export POCL_CACHE_DIR=$work/pocl-cache
    export CK_DEFAULT_TIMEOUT=600
    unset CLGRAD_GEMM

    # Binaries: the prepared folder, else a meson build folder (built if needed).
    manifest=''
    case $prepared in /*) ;; *) prepared=$root/$prepared ;; esac
    if [ -z "$build_dir" ] && [ -d "$prepared/build" ]; then
        build=$prepared/build
        manifest=$prepared/tests.list
        build_note="prepared $prepared: $(sed -n 's/^commit //p; s/^built //p' "$prepared/MANIFEST" | paste -sd ';' | sed 's/;/; built /')"
        carried_libs "$prepared" "$carried_mode"
        # The test binaries have the source folder's golden fixtures compiled in
        # (tests/meson.build): where this copy of the tree lies elsewhere, link that path.
        local src
        src=$(sed -n 's/^source //p' "$prepared/MANIFEST")
        if [ -n "$src" ] && [ "$src" != "$root" ] && [ ! -e "$src/tests/golden" ]; then
            if mkdir -p "$src/tests" 2>/dev/null && ln -s "$root/tests/golden" "$src/tests/golden" 2>/dev/null; then
                log "tests: linked $src/tests/golden -> $root/tests/golden (the fixtures' compiled-in path)"
            else
                log "tests: cannot link $src/tests/golden: the golden-value cases will fail"
            fi
        fi
    else
        build=${build_dir:-build}
        case $build in /*) ;; *) build=$root/$build ;; esac
        carried_lib_dir=''
        run_step build 300 "$0" --ensure-build "$build" || { summarize; return 1; }
        manifest=$work/tests.list
        write_manifest "$build" "$manifest"
        build_note="meson build $build ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?))"
    fi
    build=$(cd "$build" && pwd)
    [ -n "$data" ] || for d in "$prepared/data/fashion-mnist" /usr/share/datasets/fashion-mnist; do
        [ -f "$d/train-images-idx3-ubyte.gz" ] && { data=$d; break; }
    done
    export CLGRAD_FASHION_MNIST=${data:-/nonexistent}
    log "binaries: $build_note"
    log "data: ${data:-none found (LeNet-5 epoch and accuracy tests skipped)}"

    register_opencl
    export LD_LIBRARY_PATH=$build${carried_lib_dir:+:$carried_lib_dir}${nvidia_dir:+:$nvidia_dir}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    log "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

    # Preflight: every binary's libraries resolve, the device is there.
    local missing
    missing=$(for f in "$build"/libclgrad.so.* "$build"/tools/clgrad "$build"/bench/*-bench "$build"/tests/*; do
        [ -f "$f" ] && [ -x "$f" ] && ldd "$f" 2>&1 | grep -E 'not found|version .* not found' | sed "s|^|$(basename "$f"): |"
    done | sort -u)
    [ -z "$missing" ] || log "libraries that do not resolve:"$'\n'"$missing"
    # Where each library of the command line and of libclgrad comes from, for the record.
    for f in "$build"/tools/clgrad "$build"/libclgrad.so.0; do
        echo "\$ ldd $f"
        ldd "$f" 2>&1
    done >"$steps/00-libraries.log"
    run_step devices 30 "$build/tools/clgrad" devices
    local drc=$?
    local dline
    dline=$(grep -m1 '^\* ' "$steps"/*-devices.log | sed 's/^\* *//')
    local driver
    driver=$(awk '/^\* / {f = 1; next} /^  [0-9]/ {f = 0} f && $1 == "driver" {print $2; exit}' "$steps"/*-devices.log)
    figure device "${dline:-none: clgrad devices failed (see the devices log)}"
    figure "OpenCL driver version" "${driver:-?}"
    [ -n "$nvidia_lib" ] && figure "NVIDIA OpenCL library" "$nvidia_lib"
    if command -v nvidia-smi >/dev/null; then
        run_step nvidia-smi 20 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
        figure "nvidia-smi" "$(tail -n +3 "$steps"/*-nvidia-smi.log | head -1)"
    fi
    if [ $drc -ne 0 ] || ! grep -q '^\* ' "$steps"/*-devices.log; then
        log "no usable device for CLGRAD_DEVICE=$device_arg: stopping (see the devices log)"
        failed=1
        summarize
        return 1
    fi

    # 1. smoke: the op suites.
    run_tests smoke 100 smoke

    # 2. launch shapes per step, under the plan in force and under the GPU plan.
    local bench=$build/bench
    local failed_before=$failed prc
    run_step parallelism 40 "$bench/clgrad-bench" --parallelism
    prc=$?
    if [ $prc -eq 2 ] && grep -q '^usage: clgrad-bench' "$steps"/*-parallelism.log; then
        # An older build: the option is not there yet. Not a failure of this run.
        failed=$failed_before
        unset 'step_lines[${#step_lines[@]}-1]'
        log "parallelism: this clgrad-bench has no --parallelism option (issue 11's launch-plan change is not in this build): skipped"
        step_lines+=("parallelism skipped (clgrad-bench has no --parallelism in this build)")
        figure parallelism "not measured: clgrad-bench has no --parallelism in this build"
    else
        if [ $prc -eq 0 ] && ! grep -q '^result parallelism plan=gpu' "$steps"/*-parallelism.log; then
            run_step parallelism-gpu-plan 40 env CLGRAD_LAUNCH=gpu "$bench/clgrad-bench" --parallelism
        fi
        local p
        while read -r p; do
            [ -n "$p" ] && figure parallelism "${p#result parallelism }"
        done <<<"$(cat "$steps"/*-parallelism*.log | grep '^result parallelism')"
    fi

    # The device's multiply-add rate (peak-bench): what the GFLOP/s below are shares of.
    run_step peak-bench 30 "$bench/peak-bench"
    local pk
    pk=$(grep '^result peak ' "$steps"/*-peak-bench.log)
    [ -n "$pk" ] && figure "FMA peak" "${pk#result peak }"

    # 3. GEMM per zoo shape: the dispatcher's choice against CLBlast (--quick: not every
    # parameter set of clgrad's kernels as well, which is clgrad tune's business and could
    # take the step's whole time on a device where each one is a program build).
    run_step gemm-bench 90 "$bench/gemm-bench" --quick ${quick:+--only mlp --no-mlp}
    local g
    g=$(grep '^result gemm ' "$steps"/*-gemm-bench.log)
    if [ -n "$g" ]; then
        figure "gemm-bench shapes" "$(awk '{for (i = 3; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
            if (v["clblast_gflops"] > 0) {s += log(v["choice_gflops"] / v["clblast_gflops"]); n++}
            if (v["choice"] == "clblast") c++}
            END {printf "%d; dispatcher / CLBlast GFLOP/s, geometric mean %.2f; CLBlast chosen for %d", NR, n ? exp(s / n) : 0, c}' <<<"$g")"
        while read -r g; do
            figure "  gemm" "$(awk '{for (i = 3; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
                printf "%-16s %-14s %9.1f GFLOP/s  CLBlast %9.1f", v["shape"], v["choice"], v["choice_gflops"], v["clblast_gflops"]}' <<<"$g")"
        done <<<"$(grep '^result gemm ' "$steps"/*-gemm-bench.log)"
    fi
    while read -r g; do
        [ -n "$g" ] && figure "gemm-bench MLP step" "${g#result mlp_step }"
    done <<<"$(grep '^result mlp_step ' "$steps"/*-gemm-bench.log)"

    # 4. clgrad-bench: square matmuls, the MLP epoch, the step counters, start-up.
    run_step clgrad-bench 120 "$bench/clgrad-bench" ${quick:+--quick --no-startup --no-matmul} ${data:+--data "$data"}
    local m
    while read -r m; do
        [ -n "$m" ] && figure "matmul" "$(awk '{for (i = 3; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
            printf "n=%-5s dispatcher (%s) %.1f GFLOP/s, via clgrad forced CLBlast %.1f, CLBlast direct %.1f", v["n"], v["default"], v["default_gflops"], v["clgrad_clblast_gflops"], v["clblast_gflops"]}' <<<"$m")"
    done <<<"$(grep '^result matmul ' "$steps"/*-clgrad-bench.log)"
    while read -r m; do
        [ -n "$m" ] && figure "clgrad-bench" "${m#result }"
    done <<<"$(grep -E '^result (mlp|lenet5|first_step)' "$steps"/*-clgrad-bench.log)"

    # 5. convolutions.
    run_step conv-bench 45 "$bench/conv-bench" ${quick:+1}
    while read -r m; do
        [ -n "$m" ] && figure "conv-bench" "${m#result conv }"
    done <<<"$(grep '^result conv ' "$steps"/*-conv-bench.log)"

    # 6. one LeNet-5 epoch, with the kernels the benchmarks built in the cache (--quick: of
    # the first 1,280 training and 1,000 test images: 20 steps, a check that training runs).
    if [ -n "$data" ]; then
        local tdata=$data tsamples=60000
        if [ -n "$quick" ]; then
            tdata=$work/fashion-mnist-subset tsamples=1280
            fashion_subset "$data" "$tdata" $tsamples 1000
        fi
        run_step train-lenet5 120 "$build/tools/clgrad" train lenet5 --epochs 1 --data "$tdata" --save "$work/lenet5.safetensors"
        local e
        e=$(grep -m1 '^epoch 1/1' "$steps"/*-train-lenet5.log)
        if [ -n "$e" ]; then
            # The epoch's seconds count its training steps (the first step's kernel builds
            # too, but the benchmarks before it filled the kernel cache); not the test pass.
            figure "clgrad train lenet5, 1 epoch" "$(sed -n 's/.*  \([0-9.]*\) s  test accuracy \([0-9.]*%\).*/\1 s of training for '"$tsamples"' samples, test accuracy \2/p' <<<"$e")"
            e=$(grep -m1 '^trained in' "$steps"/*-train-lenet5.log)
            [ -n "$e" ] && figure "  with the test pass" "${e%%;*}"
        else
            figure "clgrad train lenet5, 1 epoch" "no result (see the train-lenet5 log)"
        fi
    else
        step_lines+=("train-lenet5 skipped (no Fashion-MNIST)")
        figure "clgrad train lenet5" "not measured: no Fashion-MNIST data"
    fi

    # 7. the rest of the suite, in what is left of the budget.
    if [ "$no_suite" = 1 ]; then
        step_lines+=("suite skipped (--no-suite)")
    else
        run_tests suite "$budget" rest
    fi

    summarize
    return $failed
}

# ---------------------------------------------------------------------------------------

mode=run prepared=.gpucheck build_dir='' logs=gpu-check-logs budget=480 quick='' icd_lib=''
carried_mode=missing no_suite=0 device_arg='' data='' prep_data=/usr/share/datasets/fashion-mnist
while [ $# -gt 0 ]; do
    case $1 in
    --prepare)
        mode=prepare
        if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then prepared=$2; shift; fi ;;
    --dir) prepared=${2:?--dir needs a folder}; shift ;;
    --build-dir) build_dir=${2:?--build-dir needs a folder}; shift ;;
    --logs) logs=${2:?--logs needs a folder}; shift ;;
    --budget) budget=${2:?--budget needs seconds}; shift ;;
    --data) data=${2:?--data needs a folder}; prep_data=$2; shift ;;
    --no-data) prep_data='' ;;
    --quick) quick=1 ;;
    --icd) icd_lib=${2:?--icd needs a library}; shift ;;
    --carried-libs) carried_mode=${2:?}; shift
        [ "$carried_mode" = all ] || [ "$carried_mode" = missing ] || die "--carried-libs all|missing" ;;
    --no-suite) no_suite=1 ;;
    --ensure-build) ensure_build "${2:?}"; exit $? ;; # run_step's build step
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (--help lists them)" ;;
    *) [ -z "$device_arg" ] || die "one device only"; device_arg=$1 ;;
    esac
    shift
done
[[ $budget =~ ^[0-9]+$ ]] || die "--budget: seconds, got '$budget'"

if [ $mode = prepare ]; then
    prepare "$prepared" "${build_dir:-build}" "$prep_data"
    exit 0
fi
[ -n "$device_arg" ] || die "which device? e.g. $prog gpu (a CLGRAD_DEVICE spec; --help)"
run_check
exit $?
