#!/usr/bin/env bash
# Rust: formatting, lints (warnings are errors), unit, integration and doc
# tests; the crate packages for publishing and its docs build, both without
# a warning. Installs tinyproxy (for the proxy tests) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# rustfmt and clippy ship with the toolchain here; add them where a minimal
# toolchain lacks them.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
# core/tests/proxy.rs runs a real CONNECT proxy, tinyproxy, from the
# distribution's packages.
if ! command -v tinyproxy >/dev/null 2>&1; then
  echo "==> installing tinyproxy"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tinyproxy
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -j"${CARGO_BUILD_JOBS:-2}" -- -D warnings
cargo test --workspace -j"${CARGO_BUILD_JOBS:-2}"

# Publishable: `cargo package` verifies the crate builds from what it would
# upload (graph-emulator, a path-only dev-dependency, is left out of it), and
# rustdoc builds as docs.rs would; a warning from either fails the suite.
echo "==> cargo package -p used-insight; cargo doc -p used-insight"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo package -p used-insight --allow-dirty -j"${CARGO_BUILD_JOBS:-2}" 2>&1 | tee "$log"
if grep -q '^warning' "$log"; then
  echo "error: cargo package warned (above)" >&2
  exit 1
fi
RUSTDOCFLAGS="-D warnings" cargo doc -p used-insight --no-deps -j"${CARGO_BUILD_JOBS:-2}"
