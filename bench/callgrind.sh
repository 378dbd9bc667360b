#!/usr/bin/env bash
# Instructions per operation of the Python layer, counted by callgrind:
# a figure that does not move with machine load, to show that a change to the
# Python layer does not make it slower.
#
#   bench/callgrind.sh [--wheel PATH | --python PATH]
#
# Builds graph-emulator (debug) and the release abi3 wheel (maturin, as
# scripts/test-python.sh builds it) into a venv at target/callgrind/venv,
# installs valgrind with apt-get when missing, starts
# `graph-emulator --port 0 --token t`, and runs bench/py/callgrind_driver.py
# under `valgrind --tool=callgrind` twice per case, with N = 1000 and
# N = 3000 operations after a warm-up of 100. Instructions per operation are
# (Ir(3000) - Ir(1000)) / 2000, Ir being the whole process's instruction
# count (all threads): start-up, imports and warm-up cancel out.
#
#   --wheel PATH    measure this wheel (installed into the venv) instead of
#                   building one from this checkout
#   --python PATH   measure the used_insight this interpreter imports, as it
#                   is: nothing is built or installed into it
#
# The markdown table goes to stdout, progress to stderr. The emulator runs
# natively, outside callgrind; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs="${CARGO_BUILD_JOBS:-2}"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$target/callgrind"
invocation="bench/callgrind.sh${*:+ $*}"
python=""
wheel=""
while [ $# -gt 0 ]; do
  case "$1" in
    --wheel) wheel=$(realpath "$2"); shift 2 ;;
    --python) python="$2"; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -z "$python" ] || [ -z "$wheel" ] || { echo "--wheel and --python exclude each other" >&2; exit 2; }

step() { printf '[callgrind] %s\n' "$*" >&2; }
apt_install() {
  step "installing $*"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
started=$(date +%s)

command -v valgrind >/dev/null || apt_install valgrind

step "cargo build -p graph-emulator"
cargo build -j"$jobs" -p graph-emulator >&2
mkdir -p "$work"

if [ -z "$python" ]; then
  venv="$work/venv"
  if [ ! -x "$venv/bin/python" ] && ! "${PYTHON:-python3}" -m venv "$venv"; then
    apt_install python3-venv  # Debian's python3 leaves ensurepip to it
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  python="$venv/bin/python"
  if [ -z "$wheel" ]; then
    step "maturin build --release (abi3 wheel)"
    "$python" -m pip install -q --disable-pip-version-check \
      "$(grep -i '^maturin' python/requirements-test.txt)"
    rm -rf "$work/wheels"
    "$venv/bin/maturin" build --release -j "$jobs" -m python/Cargo.toml --out "$work/wheels" >&2
    wheel=$(ls "$work"/wheels/used_insight-*.whl)
  fi
  step "installing $wheel"
  "$python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps \
    --no-index "$wheel"
fi
python=$("$python" -c 'import sys; print(sys.executable)')  # not a shim script

# The emulator's first stdout line is "listening on http://127.0.0.1:PORT".
exec 3< <(exec "$target/debug/graph-emulator" --port 0 --token t)
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT
read -r -t 10 line <&3
base=${line#listening on }
step "graph-emulator $base"

# Ir of one whole driver run: callgrind's "totals:" line.
ir() {
  local out="$work/callgrind.$1.$2"
  PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file="$out.out" \
    --log-file="$out.log" "$python" bench/py/callgrind_driver.py "$1" "$2" --base "$base" ||
    { cat "$out.log" >&2; return 1; }
  awk '/^totals:/ { print $2 }' "$out.out"
}

declare -A what=(
  [create-dict]='client.create(user, dict)'
  [create-model]='client.create(user, UsedInsight(...))'
  [from-dict]='UsedInsight.from_dict(d)'
  [to-dict]='model.to_dict()'
  [create-many]='client.create_many(items), per item'
)
rows=()
for case in create-dict create-model from-dict to-dict create-many; do
  small=$(ir "$case" 1000)
  large=$(ir "$case" 3000)
  per=$(((large - small + 1000) / 2000))
  step "$case: Ir(1000) $small, Ir(3000) $large, $per per op"
  rows+=("| $case: \`${what[$case]}\` | $per |")
done

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- || commit="$commit (with uncommitted changes)"
echo "Checkout $commit; used_insight $("$python" -c 'import used_insight; print(used_insight.__version__)'), $("$python" --version), $(valgrind --version)."
echo "Whole-process Ir, (Ir(N=3000) - Ir(N=1000)) / 2000; command: \`$invocation\`."
echo
echo "| case | instructions/op |"
echo "|---|---:|"
printf '%s\n' "${rows[@]}"
step "total $(($(date +%s) - started)) s"
