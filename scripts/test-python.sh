#!/usr/bin/env bash
# Python: build the abi3 manylinux2014 wheel and the sdist exactly as they
# are distributed (scripts/build-wheel.sh, into dist/), check the wheel's
# platform tag with auditwheel and its size, install it into a fresh venv,
# and run the pytest suite (python/tests, warnings are errors) against the
# installed wheel and a real graph-emulator process; then mypy --strict on a
# user script, on the README examples and on the package's own source, and
# mypy.stubtest on the native module; finally `pip install` of the sdist
# into a second venv. Needs CPython >= 3.9 with pip, and Rust; installs
# tinyproxy (for the proxy tests) when it is missing. Any failure fails the
# script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs="${CARGO_BUILD_JOBS:-2}"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/python-venv"
dist="$root/dist"
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

# run_readme_commands N VENV: the Nth ```sh block under "### Python" in the
# README's "## Install" section, run from the repository's root, each line
# as written, with VENV's pip and python first on PATH.
run_readme_commands() {
  local line commands
  commands=$(scripts/readme-commands.sh Python "$1" sh)
  while IFS= read -r line; do
    echo "\$ $line"
    (cd "$root" && PATH="$2/bin:$PATH" bash -euo pipefail -c "$line")
  done <<<"$commands"
}

step "the README's install commands: the manylinux2014 wheel and the sdist into dist/, the wheel into the venv"
start=$SECONDS
run_readme_commands 1 "$venv"
echo "built and installed in $((SECONDS - start)) s"
wheel=$(ls "$dist"/used_insight-*-cp39-abi3-*.whl)
case "$wheel" in
  *manylinux_2_17_x86_64*) ;;
  *) echo "error: $wheel is not tagged manylinux_2_17_x86_64" >&2; exit 1 ;;
esac
# auditwheel reads the symbols the extension needs: glibc 2.17's at most.
"$venv/bin/auditwheel" show "$wheel" | tee "$target/auditwheel.txt"
grep -q 'consistent with the following platform tag:' "$target/auditwheel.txt"
tr -s ' \n' ' ' <"$target/auditwheel.txt" | grep -q 'platform tag: "manylinux_2_17_x86_64"' || {
  echo "error: auditwheel does not find $wheel consistent with manylinux_2_17_x86_64" >&2
  exit 1
}
size=$(stat -c %s "$wheel")
echo "wheel size: $size bytes"
if [ "$size" -gt $((3 * 1024 * 1024)) ]; then
  echo "error: the wheel is over 3 MiB" >&2
  exit 1
fi
installed=$("$venv/bin/python" -m pip show -f used-insight)
grep -q '_native.abi3.so' <<<"$installed" || {
  echo "error: the wheel is not what the venv has installed" >&2
  exit 1
}

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
"$venv/bin/python" python/tests/test_readme.py async > "$target/readme_async.py"
"$venv/bin/python" python/tests/test_readme.py credentials > "$target/readme_credentials.py"
"$venv/bin/python" python/tests/test_readme.py stopping > "$target/readme_stopping.py"
(cd "$target" && "$venv/bin/mypy" --strict readme_example.py readme_create_many.py readme_async.py \
  readme_credentials.py readme_stopping.py "$root/python/tests")
# The package's pure-Python modules, from the source tree (mypy reports
# nothing about installed packages).
(cd python/python && "$venv/bin/mypy" --strict -p used_insight)

# The benchmark's Python is not run by the suite; it must at least parse
# with the machine's Python (a quoting slip once broke bench/run.py).
step "the benchmark's Python scripts compile"
"$venv/bin/python" -m py_compile bench/run.py bench/soak.py bench/py/driver.py bench/py/callgrind_driver.py

step "stubtest used_insight._native"
(cd "$target" && "$venv/bin/python" -m mypy.stubtest used_insight._native)

# Both builds from source share one cargo target directory (the
# dependencies are compiled once): a test-time saving, not part of the
# commands.
export CARGO_TARGET_DIR="$target/pip-source-build"
works='
import datetime, sys, used_insight as u
d = u.UsageDetails(last_accessed_date_time=datetime.datetime(2026, 11, 28, tzinfo=datetime.timezone.utc))
assert d.to_dict()["lastAccessedDateTime"] == "2026-11-28T00:00:00Z", d.to_dict()
print(sys.argv[1], "of used-insight", u.__version__, "works")'

step "the README's source install: pip install ./python into a fresh venv"
rm -rf "$target/python-source-venv"
"$python" -m venv "$target/python-source-venv"
start=$SECONDS
run_readme_commands 2 "$target/python-source-venv"
echo "built and installed in $((SECONDS - start)) s"
"$target/python-source-venv/bin/python" -W error -c "$works" "pip install ./python"

step "sdist: it carries the core crate, and pip builds and installs it"
rm -rf "$target/python-sdist-venv"
sdist=$(ls "$dist"/used_insight-*.tar.gz)
contents=$(tar tzf "$sdist")
grep -q '/core/src/lib.rs$' <<<"$contents" || { echo "the sdist lacks core/" >&2; exit 1; }
"$python" -m venv "$target/python-sdist-venv"
start=$SECONDS
"$target/python-sdist-venv/bin/python" -m pip install -q --no-cache-dir "$sdist"
echo "built and installed in $((SECONDS - start)) s"
"$target/python-sdist-venv/bin/python" -W error -c "$works" "the sdist"

echo
echo "==> Python suite passed"
