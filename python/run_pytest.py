#!/usr/bin/env python3
"""python/run_pytest.py: meson's "python" test. Runs tests/python under pytest
against the package assembled in the build folder.

    run_pytest.py BUILD/python tests/python SANITIZERS [pytest args...]

The interpreter is CLGRAD_PYTHON when set (a venv's python), else the one
running this script. It exits 77 (meson's skip), saying why, when that
interpreter lacks cffi, numpy or pytest, when there is no OpenCL device, or
when the build uses sanitizers (SANITIZERS, meson's b_sanitize, is not
"none": their runtime must be the first library a process loads); otherwise
with pytest's status, so that "no tests collected" (5) fails."""
import os
import subprocess
import sys


def main(argv):
    build_python, tests, sanitizers = argv[1], argv[2], argv[3]
    if sanitizers != 'none':
        print(f'skipped: a -Db_sanitize={sanitizers} library cannot be loaded into an '
              'uninstrumented python (the sanitizer runtime must come first)')
        return 77
    interpreter = os.environ.get('CLGRAD_PYTHON') or sys.executable
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
    env['PYTHONPATH'] = os.pathsep.join(p for p in (build_python, env.get('PYTHONPATH')) if p)
    probe = subprocess.run([interpreter, '-c', 'import cffi, numpy, pytest'],
                           capture_output=True, text=True, env=env)
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ['failed'])[-1]
        print(f'skipped: {interpreter} cannot import cffi, numpy and pytest ({reason}); '
              'install python3-cffi python3-numpy python3-pytest (tools/setup-debian.sh), or '
              'set CLGRAD_PYTHON to a venv\'s python that has them')
        return 77
    probe = subprocess.run([interpreter, '-c', 'import clgrad; print(len(clgrad.devices()))'],
                           capture_output=True, text=True, env=env)
    if probe.returncode != 0:
        print(probe.stdout + probe.stderr)
        return 1
    if probe.stdout.strip() == '0':
        print('skipped: no OpenCL device')
        return 77
    command = [interpreter, '-m', 'pytest', '-ra', '-p', 'no:cacheprovider', tests] + argv[4:]
    print(' '.join(command), flush=True)
    return subprocess.call(command, env=env)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
