#!/usr/bin/env bash
# Rust: formatting, lints (warnings are errors), unit, integration and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# rustfmt and clippy ship with the toolchain here; add them where a minimal
# toolchain lacks them.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -j"${CARGO_BUILD_JOBS:-2}" -- -D warnings
cargo test --workspace -j"${CARGO_BUILD_JOBS:-2}"
