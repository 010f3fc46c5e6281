#!/bin/sh
# tools/setup-debian.sh: installs what clgrad needs to build, test and train
# on Debian 12 (bookworm): the PoCL CPU OpenCL driver and the ICD loader,
# OpenCL headers, CLBlast, Check, meson and ninja, zlib, cairo and fontconfig
# (the command line's PNG pictures), the Fashion-MNIST dataset package,
# clinfo and python3 (which the build uses to embed the kernels), gcc (a
# bare Debian has no `cc`, and PoCL's clang-15 does not provide one), and
# mesa-opencl-icd: Mesa's rusticl, a second OpenCL implementation (the driver
# family of AMD and Intel GPUs on Linux) whose software device llvmpipe has
# a GPU's limits (no fp64, 32 KiB of local memory); .ci/run runs the suite on
# it too. It lists no device unless RUSTICL_ENABLE names one, so PoCL stays
# the default; and oclgrind (CI runs the op suites under it:
# tests/oclgrind.sh), and Open MPI (data-parallel training: `mpirun -np N
# clgrad train`), and for the Python package python3-venv (pip install .
# needs a venv on Debian 12) and python3-cffi, python3-numpy, python3-pytest
# (so that `meson test` runs tests/python with the system python3). Run as
# root, or as a user with sudo. Non-interactive.
set -eu

packages="pocl-opencl-icd ocl-icd-opencl-dev opencl-headers libclblast-dev check meson
ninja-build pkg-config zlib1g-dev libcairo2-dev libfontconfig-dev dataset-fashion-mnist clinfo python3 gcc libc6-dev
oclgrind mesa-opencl-icd openmpi-bin libopenmpi-dev
python3-venv python3-cffi python3-numpy python3-pytest"

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "setup-debian.sh: run as root or install sudo" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update
# shellcheck disable=SC2086 # the list is meant to split into words
$as_root apt-get install -y --no-install-recommends $packages
