#!/usr/bin/env bash
# Installs what SMEPilot needs, builds it, and generates text with
# smepilot-run. Defaults: the model ../shared/models/stories260K.gguf and the
# prompt "Once upon a time"; every smepilot-run flag may be given (-m MODEL,
# -p PROMPT, -n N, --temp T, ...; see smepilot-run --help).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
bash "$root/scripts/setup.sh" >&2
bash "$root/scripts/build.sh" >&2
has_prompt=0
for a in "$@"; do
  case "$a" in -p|--prompt|-f|--file|--prompt-ids|--perplexity) has_prompt=1 ;; esac
done
if [ "$has_prompt" -eq 0 ]; then
  set -- -p "Once upon a time" "$@"
fi
exec "$build/bin/smepilot-run" "$@"
