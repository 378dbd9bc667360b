#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh machine: installs what
# it needs, then runs every layer's checks. Each layer has its own script.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

for layer in rust c python; do
  script="scripts/test-$layer.sh"
  if [ -x "$script" ]; then
    echo "==> $script"
    "$script"
  fi
done
echo "==> all suites passed"
