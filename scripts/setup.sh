#!/usr/bin/env bash
# Installs every Debian package SMEPilot needs to build and test, for the host
# (x86-64) and the aarch64 cross build that runs under qemu-aarch64.
# Idempotent: packages already installed are skipped by apt-get, and the arm64
# foreign architecture is added only once. Safe to re-run.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config
  # LLVM/MLIR 22 (TOOLCHAIN.md: from the security suite, everything under /usr/lib/llvm-22)
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22
  libclang-rt-22-dev
  # gates: formatting (scripts/check-format.sh) and .clang-tidy
  clang-format-22 clang-tidy-22
  # tests
  libgtest-dev googletest python3 librsvg2-bin nlohmann-json3-dev
  # smepilot-server: HTTP (JSON is nlohmann-json3-dev above)
  libcpp-httplib-dev
  # tokenizers: Unicode-aware regexes for the BPE pre-tokenizers
  libpcre2-dev
  # aarch64 cross target, run under QEMU user mode
  qemu-user libc6-dev-arm64-cross libgcc-12-dev-arm64-cross libstdc++-12-dev-arm64-cross
  binutils-aarch64-linux-gnu
  libpcre2-dev:arm64
  # the compiler's aarch64 cross build (JIT under QEMU): arm64 libLLVM and, through
  # it, its arm64 dependencies; libMLIR is unpacked by setup-aarch64-llvm.sh below
  libllvm22:arm64
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup.sh: error: installing packages needs root, and sudo is not available." >&2
    echo "setup.sh: run this script as root, or install sudo." >&2
    exit 1
  fi
fi

# smepilot-server's client test runs the openai npm package: Node.js and
# npm from Debian, unless a Node.js with its own npm is there already (a
# NodeSource build provides npm itself and conflicts with Debian's package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup.sh: all ${#PACKAGES[@]} packages already installed."
else
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  echo "setup.sh: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# LLVM/MLIR 22 for arm64, unpacked for the compiler's aarch64 cross build
# (cmake/SMEPilotSubBuilds.cmake, compiler-aarch64). Skipped when there already.
$SUDO bash "$(dirname "${BASH_SOURCE[0]}")/setup-aarch64-llvm.sh" "${SMEPILOT_AARCH64_LLVM_ROOT:-/opt/smepilot/aarch64-llvm-22}"
echo "setup.sh: done."
