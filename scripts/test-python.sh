#!/usr/bin/env bash
# Python: build the abi3 wheel with maturin, install it into a fresh venv,
# and run the pytest suite (python/tests, warnings are errors) against the
# installed wheel and a real graph-emulator process; then mypy --strict on a
# user script and on the README examples, and mypy.stubtest on the native
# module; finally `pip install` of the sdist into a second venv. Needs
# CPython >= 3.9 with pip, and Rust; installs tinyproxy (for the proxy
# tests) when it is missing. Any failure fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs="${CARGO_BUILD_JOBS:-2}"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/python-venv"
wheels="$target/python-wheels"
python="${PYTHON:-python3}"
export MYPY_CACHE_DIR="$target/mypy-cache"
export CARGO_BUILD_JOBS="$jobs"  # also for the cargo that pip runs on the sdist
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n==> %s\n' "$*"; }

# python/tests/test_proxy.py runs a real CONNECT proxy, tinyproxy, from the
# distribution's packages.
if ! command -v tinyproxy >/dev/null 2>&1; then
  step "installing tinyproxy"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tinyproxy
fi

step "venv $venv ($("$python" --version 2>&1))"
rm -rf "$venv"
if ! "$python" -m venv "$venv"; then
  # Debian's python3 leaves venv (ensurepip) to a separate package.
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq python3-venv
    rm -rf "$venv"
    "$python" -m venv "$venv"
  else
    echo "cannot create a venv: install python3-venv" >&2
    exit 1
  fi
fi
"$venv/bin/python" -m pip install -q -r python/requirements-test.txt

step "maturin build (abi3 wheel)"
rm -rf "$wheels"
"$venv/bin/maturin" build --release -j "$jobs" -m python/Cargo.toml --out "$wheels"
wheel=$(ls "$wheels"/used_insight-*-cp39-abi3-*.whl)
ls -l "$wheel"
"$venv/bin/python" -m pip install -q --no-deps --no-index "$wheel"

step "graph-emulator"
cargo build -j"$jobs" -p graph-emulator
export GRAPH_EMULATOR="$target/debug/graph-emulator"

step "pytest (against the installed wheel)"
status=0
(cd python && "$venv/bin/pytest" -W error -p no:cacheprovider tests) || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi

# The tests' `type: ignore` comments mark misuse the types must reject:
# --strict fails on any that became unnecessary.
step "mypy --strict (a user script, the README examples, the tests)"
"$venv/bin/python" python/tests/test_readme.py > "$target/readme_example.py"
"$venv/bin/python" python/tests/test_readme.py create_many > "$target/readme_create_many.py"
(cd "$target" && "$venv/bin/mypy" --strict readme_example.py readme_create_many.py "$root/python/tests")

step "stubtest used_insight._native"
(cd "$target" && "$venv/bin/python" -m mypy.stubtest used_insight._native)

step "sdist: it carries the core crate, and pip builds and installs it"
rm -rf "$target/python-sdist" "$target/python-sdist-venv"
"$venv/bin/maturin" sdist -m python/Cargo.toml --out "$target/python-sdist"
sdist=$(ls "$target"/python-sdist/used_insight-*.tar.gz)
contents=$(tar tzf "$sdist")
grep -q '/core/src/lib.rs$' <<<"$contents" || { echo "the sdist lacks core/" >&2; exit 1; }
"$python" -m venv "$target/python-sdist-venv"
"$target/python-sdist-venv/bin/python" -m pip install -q --no-cache-dir "$sdist"
"$target/python-sdist-venv/bin/python" -W error -c '
import datetime, used_insight as u
d = u.UsageDetails(last_accessed_date_time=datetime.datetime(2026, 11, 28, tzinfo=datetime.timezone.utc))
assert d.to_dict()["lastAccessedDateTime"] == "2026-11-28T00:00:00Z", d.to_dict()
print("sdist install of used-insight", u.__version__, "works")'

echo
echo "==> Python suite passed"
