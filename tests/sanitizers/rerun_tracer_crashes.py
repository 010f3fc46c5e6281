#!/usr/bin/python3
"""tests/sanitizers/rerun_tracer_crashes.py BUILD_DIR: after `meson test -C BUILD_DIR`
failed under AddressSanitizer (.ci/run's section 3), runs its failed tests once more when
LeakSanitizer's tracer crashed in each of them and nothing else went wrong; exits with the
rerun's status, or 1 without rerunning when any failure is something else.

At exit LeakSanitizer stops every thread of the process to scan for leaks, and its tracer
now and then crashes doing so ("Tracer caught signal 11 ... LeakSanitizer has encountered a
fatal error", google/sanitizers#1353), with PoCL's worker threads alive: seen in
tools/test_cli_train (tests/tools/run_clgrad.sh reruns its commands) and in zoo/test_gan
(CI at 458e3e6; it passed the six times it was run again). That says nothing about clgrad.
A leak report ("detected memory leaks"), a memory error ("ERROR: AddressSanitizer") or
undefined behaviour ("runtime error:") in a failed test's output is not that, and fails."""
import json
import os
import subprocess
import sys

CRASH = ("Tracer caught signal", "LeakSanitizer has encountered a fatal error")
REAL = ("detected memory leaks", "ERROR: AddressSanitizer", "runtime error:")


def main():
    if len(sys.argv) != 2:
        print("usage: rerun_tracer_crashes.py BUILD_DIR", file=sys.stderr)
        return 2
    build = sys.argv[1]
    log = os.path.join(build, "meson-logs", "testlog.json")
    try:
        with open(log, encoding="utf-8") as f:
            runs = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print(f"rerun_tracer_crashes: {log}: {e}", file=sys.stderr)
        return 1
    failed = [r for r in runs if r["result"] not in ("OK", "SKIP", "EXPECTEDFAIL")]
    if not failed:
        print("rerun_tracer_crashes: no failed test in " + log, file=sys.stderr)
        return 1
    names = []
    for r in failed:
        output = r.get("stdout", "") + r.get("stderr", "")
        crashed = all(s in output for s in CRASH)
        real = [s for s in REAL if s in output]
        if not crashed or real:
            why = f"its output says {real[0]!r}" if real else "its tracer did not crash"
            print(f"rerun_tracer_crashes: {r['name']} failed ({r['result']}) and {why}: "
                  "not rerun", file=sys.stderr)
            return 1
        names.append(r["name"].split(" / ", 1)[-1])
    print("rerun_tracer_crashes: LeakSanitizer's tracer crashed at exit "
          f"(google/sanitizers#1353) in {', '.join(names)}; running them once more")
    return subprocess.call(["meson", "test", "-C", build, "--no-rebuild"] + names)


if __name__ == "__main__":
    sys.exit(main())
