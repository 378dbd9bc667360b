#!/usr/bin/env bash
# Rust: formatting, lints (warnings are errors), unit, integration and doc
# tests; the crate packages for publishing and its docs build, both without
# a warning; a project of its own uses it as the README's Install section
# says (a path dependency, and a git one). Installs tinyproxy (for the proxy tests) and g++ (for libFuzzer) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# rustfmt and clippy ship with the toolchain here; add them where a minimal
# toolchain lacks them.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
# core/tests/proxy.rs runs a real CONNECT proxy, tinyproxy, from the
# distribution's packages; the fuzz targets' libFuzzer (libfuzzer-sys) is
# C++ and needs a C++ compiler.
missing=()
command -v tinyproxy >/dev/null 2>&1 || missing+=(tinyproxy)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -j"${CARGO_BUILD_JOBS:-2}" -- -D warnings
cargo test --workspace -j"${CARGO_BUILD_JOBS:-2}"

# Every fuzz target for a few seconds (FUZZ_SECONDS each): the seeds and
# what the fuzzer finds from them. Longer runs: scripts/fuzz.sh SECONDS.
echo "==> fuzz targets: the seeds, then ${FUZZ_RUNS:-3000} fixed-seed inputs each (at most ${FUZZ_SECONDS:-5} s)"
FUZZ_RUNS="${FUZZ_RUNS:-3000}" scripts/fuzz.sh "${FUZZ_SECONDS:-5}"

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

# The README's Cargo.toml lines in a new project beside a checkout named
# used-insight (a link to this one): the path dependency as written, then
# the git one with its URL pointed at a local clone of this repository's
# HEAD (the suite reaches no git host). The workspace's lock and target
# directory are reused, so only the new project and the git copy compile.
echo "==> a project using used-insight as the README's Install says"
consumer=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$consumer"' EXIT
ln -s "$PWD" "$consumer/used-insight"
mkdir -p "$consumer/app/src"
cat >"$consumer/app/src/main.rs" <<'RUST'
//! Reads, validates and writes back an insight: the crate links and works.
fn main() {
    let insight = used_insight::UsedInsight::from_json(
        r#"{"lastUsed":{"lastAccessedDateTime":"2026-11-28T10:00:00Z"},
            "resourceVisualization":{"title":"Quarterly report","type":"Word"},
            "resourceReference":{"webUrl":"https://contoso.sharepoint.com/report.docx"}}"#,
    )
    .expect("a valid insight reads");
    insight.validate().expect("and validates");
    println!("{}", insight.to_json());
}
RUST
dependencies=$(scripts/readme-commands.sh Rust 1 toml)
git_line=$(sed -n 's/^# or: \(used-insight = { git = .*\)$/\1/p' <<<"$dependencies")
if [ -z "$git_line" ]; then
  echo "error: the README's Rust install block has no '# or: used-insight = { git = ... }' line" >&2
  exit 1
fi
git clone -q --bare "$PWD" "$consumer/used-insight.git"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
git_url="file://$consumer/used-insight.git"
for kind in path git; do
  {
    printf '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n\n'
    if [ "$kind" = path ]; then
      printf '%s\n' "$dependencies"
    else
      printf '[dependencies]\n%s\n' "$(sed -E "s|git = \"[^\"]*\"|git = \"$git_url\"|" <<<"$git_line")"
    fi
  } >"$consumer/app/Cargo.toml"
  cp Cargo.lock "$consumer/app/Cargo.lock"
  out=$(cd "$consumer/app" && CARGO_TARGET_DIR="$target_dir" cargo run -q -j"${CARGO_BUILD_JOBS:-2}")
  case "$out" in
    *'"webUrl":"https://contoso.sharepoint.com/report.docx"'*) echo "$kind dependency: works" ;;
    *) echo "error: the $kind dependency printed '$out'" >&2; exit 1 ;;
  esac
done
