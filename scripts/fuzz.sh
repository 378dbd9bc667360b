#!/usr/bin/env bash
# Runs every fuzz target under fuzz/ (cargo-fuzz, libFuzzer) for SECONDS
# each (default 60), or only the TARGETs named, and prints the executions
# of each. A crash stops the run: the input that crashed is kept in
# fuzz/artifacts/TARGET/ — reproduce it with
#   (cd fuzz && cargo fuzz run -s none TARGET artifacts/TARGET/crash-…)
# and make it a regression test (core/tests or a unit test) with the fix.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Builds on the stable toolchain without a sanitizer. FUZZ_SANITIZER=address
# (or leak) builds with that sanitizer instead, through RUSTC_BOOTSTRAP=1
# (-Zsanitizer is unstable); its build goes to target/fuzz-SANITIZER.
# New corpus entries go to fuzz/corpus/TARGET (not committed); the seeds,
# fuzz/seeds/TARGET, are read as well. scripts/test-rust.sh runs this for a
# few seconds per target. FUZZ_RUNS=N stops each target after N inputs
# with a fixed seed: the same inputs on every machine (the suite's way, so
# that a new random finding never fails it; long runs find those).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
seconds="${1:-60}"
[ $# -gt 0 ] && shift
case "$seconds" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

sanitizer="${FUZZ_SANITIZER:-none}"
target_dir="$PWD/target/fuzz"
if [ "$sanitizer" != none ]; then
  export RUSTC_BOOTSTRAP=1
  target_dir="$PWD/target/fuzz-$sanitizer"
fi
# The credential_input target writes a token file; keep it out of /tmp.
mkdir -p target
scratch=$(mktemp -d "$PWD/target/fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

cd fuzz
# The fuzz crate is not in the workspace: formatted and linted here.
cargo fmt --check
cargo clippy --all-targets --target-dir "$PWD/../target/fuzz-clippy" -- -D warnings
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
echo "==> building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)"
cargo fuzz build -s "$sanitizer" --target-dir "$target_dir"

printf '%-18s %12s %8s\n' target executions corpus
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  log="$scratch/$target.log"
  # -timeout: an input taking 10 s is a hang, and a finding.
  if ! TMPDIR="$scratch" cargo fuzz run -s "$sanitizer" --target-dir "$target_dir" \
      "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
      ${FUZZ_RUNS:+-runs="$FUZZ_RUNS" -seed=1} >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "error: fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  printf '%-18s %12s %8s\n' "$target" "${runs:-?}" "$(find "corpus/$target" -type f | wc -l)"
done
