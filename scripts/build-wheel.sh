#!/usr/bin/env bash
# Builds the Python package for distribution into dist/:
#
#   dist/used_insight-VERSION-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
#   dist/used_insight-VERSION.tar.gz      (the sdist: builds anywhere with Rust)
#
# One abi3 wheel for every CPython >= 3.9 on x86_64 Linux with glibc 2.17 or
# later (RHEL/Rocky/Alma 8, Ubuntu 20.04, Debian 11, Amazon Linux 2 ...):
# maturin links it with zig (the `ziglang` wheel) against glibc 2.17's
# symbols, so no manylinux container is needed. Install it with
# `pip install dist/used_insight-*.whl`.
#
# Needs CPython >= 3.9 with pip and venv, and Rust. Makes (or reuses) a venv
# with the pinned tools of python/requirements-build.txt under the cargo
# target directory. Environment: PYTHON (default python3), CARGO_BUILD_JOBS
# (default 2), DIST (default dist/, relative to the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs="${CARGO_BUILD_JOBS:-2}"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/wheel-venv"
dist="${DIST:-$root/dist}"
python="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q -r python/requirements-build.txt
# maturin finds zig as `python3 -m ziglang`, the first python3 on PATH.
export PATH="$venv/bin:$PATH"

mkdir -p "$dist"
rm -f "$dist"/used_insight-*.whl "$dist"/used_insight-*.tar.gz
start=$SECONDS
maturin build --release -j "$jobs" -m python/Cargo.toml --zig --compatibility manylinux2014 \
  --out "$dist"
maturin sdist -m python/Cargo.toml --out "$dist"
echo "built in $((SECONDS - start)) s:"
ls -l "$dist"/used_insight-*
