#!/usr/bin/env bash
# Installs what SMEPilot needs, builds it, and runs every test: GoogleTest
# (runtime and compiler), lit, the runtime again cross-built for aarch64
# under qemu-aarch64, the runtime under ASan+UBSan, the lit suite on the
# compiler built with ASan+UBSan, and the GGUF, tokenizer and JIT model
# fuzzers. One ctest run; its summary line closes the output. Arguments go to ctest (e.g. -L lit).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
ctest --test-dir "$build" --output-on-failure -j "${SMEPILOT_TEST_JOBS:-2}" "$@"
