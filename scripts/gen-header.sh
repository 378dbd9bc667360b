#!/usr/bin/env bash
# Regenerates include/used_insight.h from ffi/src with the pinned cbindgen.
#   scripts/gen-header.sh           rewrite the header
#   scripts/gen-header.sh --check   fail (exit 1, with a diff) if it is stale
# Installs cbindgen at the pinned version when it is missing or different:
# another version formats the header differently, so the freshness check
# would fail for no reason (rustls-ffi issues 322 and 559).
set -euo pipefail
cd "$(dirname "$0")/.."

CBINDGEN_VERSION=0.29.4
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
HEADER=include/used_insight.h

installed=$(cbindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$installed" != "$CBINDGEN_VERSION" ]; then
  echo "installing cbindgen $CBINDGEN_VERSION (found: ${installed:-none})" >&2
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked -j"${CARGO_BUILD_JOBS:-2}" >&2
fi

generate() {
  cbindgen --quiet --config ffi/cbindgen.toml --crate used-insight-ffi --output "$1"
}

case "${1:-}" in
  --check)
    fresh=$(mktemp)
    trap 'rm -f "$fresh"' EXIT
    generate "$fresh"
    if ! diff -u "$HEADER" "$fresh"; then
      echo "error: $HEADER is stale; regenerate it with scripts/gen-header.sh and commit it" >&2
      exit 1
    fi
    echo "$HEADER is fresh (cbindgen $CBINDGEN_VERSION)"
    ;;
  "")
    generate "$HEADER"
    echo "wrote $HEADER (cbindgen $CBINDGEN_VERSION)"
    ;;
  *)
    echo "usage: scripts/gen-header.sh [--check]" >&2
    exit 2
    ;;
esac
