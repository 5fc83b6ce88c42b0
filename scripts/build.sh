#!/usr/bin/env bash
# Configures and builds SMEPilot in build/ (Ninja, clang-22, LLVM/MLIR 22).
# Extra arguments go to the CMake configure step. BUILD_DIR overrides build/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
jobs="${SMEPILOT_JOBS:-$(nproc)}"
if [ ! -f "$build/build.ninja" ] || [ "$#" -gt 0 ]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    "$@"
fi
cmake --build "$build" -j "$jobs"
