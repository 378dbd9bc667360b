#!/usr/bin/env bash
# Prints the lines of the Nth fenced block of kind LANG (sh, toml ...) under
# "### HEADING" in README.md's "## Install" section, so the test suites run
# (or use) exactly what the README tells users:
#
#   scripts/readme-commands.sh Python 1 sh      # the wheel: build, install
#
# Fails when there is no such block, or it is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 3 ]; then
  echo "usage: scripts/readme-commands.sh HEADING N LANG" >&2
  exit 2
fi
lines=$(awk -v heading="### $1" -v want="$2" -v fence="\`\`\`$3" '
  /^## / { install = ($0 == "## Install"); here = 0 }
  /^### / { here = install && ($0 == heading) }
  here && $0 == fence { block++; inside = 1; next }
  inside && /^```$/ { inside = 0; next }
  inside && block == want && NF { print }' README.md)
if [ -z "$lines" ]; then
  echo "error: README.md has no $3 block $2 under '## Install' / '### $1'" >&2
  exit 1
fi
printf '%s\n' "$lines"
