#!/usr/bin/env bash
# The soak benchmark (not a timed test): 100,000 creates through one Rust
# client and 20,000 through one Python client against graph-emulator, the
# client's resident memory and open file descriptors sampled as it goes;
# flat after the warm-up (growth under 1 MiB, no descriptor left open) or
# it fails. Results to bench/results/soak.md (and stdout).
#
#   bench/soak.sh [--rust-count N] [--python-count N] [--growth-kib K]
#
# Builds the release drivers and graph-emulator, and the Python wheel as it
# is distributed (scripts/build-wheel.sh) into target/bench/venv, as
# bench/run.sh does; then bench/soak.py runs and judges. About 2 minutes of
# creates after the builds on the 2-core machine of bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs="${CARGO_BUILD_JOBS:-2}"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$target/bench"
python="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '[soak] %s\n' "$*" >&2; }

step "cargo build --release (soak driver, graph-emulator)"
cargo build --release -j"$jobs" -p used-insight-bench -p graph-emulator >&2

step "Python wheel (scripts/build-wheel.sh) into $work/venv"
venv="$work/venv"
mkdir -p "$work"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
rm -rf "$work/wheels"
DIST="$work/wheels" CARGO_BUILD_JOBS="$jobs" scripts/build-wheel.sh >&2
wheel=$(ls "$work"/wheels/used_insight-*.whl)
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps --no-index "$wheel" >&2

"$venv/bin/python" bench/soak.py --python "$venv/bin/python" "$@"
