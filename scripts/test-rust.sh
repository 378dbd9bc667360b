#!/usr/bin/env bash
# Rust: formatting, lints (warnings are errors), unit, integration and doc
# tests. Installs tinyproxy (for the proxy tests) when it is missing.
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
