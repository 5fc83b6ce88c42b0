#!/usr/bin/env bash
# Runs clang-tidy-22 with the repository's .clang-tidy over every source of
# the build's compile_commands.json (build/ or BUILD_DIR). Exits non-zero on
# any finding. Not part of ctest: it takes ~20 minutes on 2 cores, too much
# for CI's budget beside everything else; run it before changing .clang-tidy
# or after large changes. Arguments go to run-clang-tidy-22 (e.g. a file
# regex to check a few files).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
if [ ! -f "$build/compile_commands.json" ]; then
  echo "tidy.sh: error: $build/compile_commands.json not found (build first)" >&2
  exit 2
fi
cd "$root"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
run-clang-tidy-22 -p "$build" -j "${SMEPILOT_JOBS:-$(nproc)}" -quiet \
  -source-filter '^'"$root"'/(lib|tools|runtime|unittests|fuzz)/' "$@" >"$log" 2>&1 || true
if grep -E ': (warning|error): ' "$log" | grep -v '^clang-tidy' >&2; then
  echo "tidy.sh: findings above" >&2
  exit 1
fi
echo "tidy.sh: no findings"
