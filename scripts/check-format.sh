#!/usr/bin/env bash
# Fails when a tracked C/C++ source of ours is not formatted as its
# .clang-format says (the root one: LLVM style; runtime/.clang-format and its
# copies: the runtime's style). Run by ctest as the test `format`, so CI
# enforces it. `scripts/check-format.sh --fix` rewrites the files instead.
# Uses clang-format-22 (scripts/setup.sh installs it; the unversioned
# clang-format on Debian 12 is LLVM 14, whose output differs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
fmt="${CLANG_FORMAT:-clang-format-22}"
if ! command -v "$fmt" >/dev/null 2>&1; then
  echo "check-format.sh: error: $fmt not found (run scripts/setup.sh)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files -- 'lib/*' 'include/*' 'tools/*' 'runtime/*' 'unittests/*' 'fuzz/*' |
                     grep -E '\.(c|cc|cpp|h|hpp)$')
if [ "${1:-}" = "--fix" ]; then
  "$fmt" -i "${files[@]}"
  exit 0
fi
if ! "$fmt" --dry-run --Werror "${files[@]}" 2>"${TMPDIR:-/tmp}/check-format.$$"; then
  grep -E '^[^ ].*: error:' "${TMPDIR:-/tmp}/check-format.$$" | sed -E 's/:[0-9]+:[0-9]+: error:.*//' | sort -u |
    sed 's/^/not formatted: /' >&2
  rm -f "${TMPDIR:-/tmp}/check-format.$$"
  echo "check-format.sh: run 'scripts/check-format.sh --fix' (or git clang-format-22) and commit" >&2
  exit 1
fi
rm -f "${TMPDIR:-/tmp}/check-format.$$"
echo "check-format.sh: ${#files[@]} files formatted"
