#!/usr/bin/env bash
# The benchmark, from a fresh clone on a fresh Debian machine, in one run:
#
#   bench/run.sh [--with-msgraph] [--quick]
#   bench/run.sh --bulk-only
#
# Installs nginx, wrk and openssl from Debian's packages when missing, builds
# the release binaries, the C library (as scripts/install-c.sh installs it)
# and the Python wheel (scripts/build-wheel.sh, the one distributed), then
# bench/run.py starts nginx on two free loopback ports (plain, and TLS with a
# throwaway CA made by openssl) with a generated config and measures every
# layer against the peers. The table goes to stdout and to
# bench/results/latest.md; progress to stderr. See bench/README.md.
#
#   --with-msgraph   also Microsoft's msgraph-sdk for Python, in its own venv
#                    (target/bench/msgraph-venv), bounded to 300 creates
#   --quick          shorter rounds (still 5 of them) for a smoke run
#   --bulk-only      only the "bulk under Graph's limits" section (about
#                    2 minutes; Rust builds only), written over that section
#                    of bench/results/latest.md
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs="${CARGO_BUILD_JOBS:-2}"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$target/bench"
python="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

with_msgraph=0
bulk_only=0
pass=()
for arg in "$@"; do
  case "$arg" in
    --with-msgraph) with_msgraph=1 ;;
    --quick) pass+=(--quick) ;;
    --bulk-only) bulk_only=1 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
  esac
done

step() { printf '[bench] %s\n' "$*" >&2; }
started=$(date +%s)

if [ "$bulk_only" = 1 ]; then
  step "cargo build --release (bench drivers, graph-emulator)"
  cargo build --release -j"$jobs" -p used-insight-bench -p graph-emulator >&2
  "$python" bench/run.py --bulk-only
  step "total $(($(date +%s) - started)) s"
  exit 0
fi

# --- tools, installed only when missing ----------------------------------------
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v strip >/dev/null 2>&1 || missing+=(binutils)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v "$python" >/dev/null 2>&1 || missing+=(python3 python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
export PATH="$PATH:/usr/sbin"

# --- builds ---------------------------------------------------------------------
mkdir -p "$work"
step "cargo build --release (bench drivers, graph-emulator)"
cargo build --release -j"$jobs" -p used-insight-bench -p graph-emulator >&2
step "cargo bench --no-run (divan micro-benchmark)"
cargo bench -j"$jobs" -p used-insight-bench --bench model --no-run >&2 2>&1

step "C library, installed as users install it (scripts/install-c.sh)"
rm -rf "$work/prefix"
PROFILE=release CARGO_BUILD_JOBS="$jobs" scripts/install-c.sh "$work/prefix" >&2
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
read -r -a cflags <<<"$(pkg-config --cflags used_insight)"
read -r -a libs <<<"$(pkg-config --libs used_insight)"
gcc -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror "${cflags[@]}" bench/c/driver.c \
  -o "$work/c-driver" "${libs[@]}" -Wl,-rpath,"$work/prefix/lib"

# A venv, installing Debian's python3-venv (ensurepip) when it is missing.
make_venv() {
  [ -x "$1/bin/python" ] && return 0
  rm -rf "$1"
  if ! "$python" -m venv "$1"; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    rm -rf "$1"
    "$python" -m venv "$1"
  fi
}

step "Python wheel (scripts/build-wheel.sh, the one distributed) into $work/venv"
venv="$work/venv"
make_venv "$venv"
"$venv/bin/python" -m pip install -q -r bench/requirements.txt >&2
rm -rf "$work/wheels"
DIST="$work/wheels" CARGO_BUILD_JOBS="$jobs" scripts/build-wheel.sh >&2
wheel=$(ls "$work"/wheels/used_insight-*.whl)
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps --no-index "$wheel" >&2

msgraph=()
if [ "$with_msgraph" = 1 ]; then
  step "msgraph-sdk into $work/msgraph-venv"
  mvenv="$work/msgraph-venv"
  make_venv "$mvenv"
  "$mvenv/bin/python" -m pip install -q -r bench/requirements-msgraph.txt >&2
  msgraph=(--msgraph-python "$mvenv/bin/python")
fi

step "builds done in $(($(date +%s) - started)) s; measuring"
"$venv/bin/python" bench/run.py --python "$venv/bin/python" --wheel "$wheel" \
  "${msgraph[@]}" "${pass[@]}"
step "total $(($(date +%s) - started)) s"
