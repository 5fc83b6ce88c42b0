#!/usr/bin/env bash
# Makes the arm64 LLVM/MLIR 22 tree that the compiler's aarch64 cross build
# (cmake/toolchain-aarch64-linux-gnu-jit.cmake, sub-build compiler-aarch64)
# compiles and links against:
#
#   scripts/setup-aarch64-llvm.sh [DIR]     (default /opt/smepilot/aarch64-llvm-22)
#
# Debian ships LLVM/MLIR 22 for arm64, but only libllvm22:arm64 can be
# installed beside the amd64 packages (Multi-Arch: same; scripts/setup.sh
# installs it, which also brings its arm64 dependencies: libstdc++, libffi,
# libxml2, zlib, zstd, z3). libmlir-22, libmlir-22-dev and llvm-22-dev are not
# co-installable, so their arm64 builds are downloaded (of the version of the
# installed libllvm22:arm64) and unpacked into DIR:
#   DIR/usr/lib/llvm-22/lib        libMLIR.so.22.1, the CMake packages
#   DIR/usr/lib/llvm-22/include    the headers, llvm/Config/*.h naming AArch64
# and then made usable from this x86-64 machine:
#   - DIR/usr/lib/aarch64-linux-gnu/libLLVM.so.22.1 links to the installed one;
#   - the programs the CMake packages import (mlir-tblgen, llvm-tblgen...) are
#     links to the host's: TableGen runs on the build machine;
#   - the static archives are emptied (816 MB): the build links libMLIR.so and
#     libLLVM.so only. An empty file is not an archive, so linking one by
#     mistake fails loudly. Files the packages import from packages not
#     unpacked (libLTO, LLVMgold, Polly) are empty placeholders, for the same
#     reason.
# Idempotent: a stamp names the version unpacked; run again after an upgrade.
set -euo pipefail

dir="${1:-/opt/smepilot/aarch64-llvm-22}"
packages=(libmlir-22 libmlir-22-dev llvm-22-dev)

version="$(dpkg-query -W -f='${Version}' libllvm22:arm64 2>/dev/null || true)"
if [ -z "$version" ]; then
  echo "setup-aarch64-llvm.sh: error: libllvm22:arm64 is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
stamp="$dir/.smepilot-unpacked"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
  echo "setup-aarch64-llvm.sh: $dir holds LLVM/MLIR $version for arm64 already."
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt-get downloads as the _apt user
echo "setup-aarch64-llvm.sh: downloading ${packages[*]} ($version, arm64)"
(cd "$work" && apt-get download -q "${packages[@]/%/:arm64=$version}")

# Unpack beside the final directory and move it in place at the end, so that
# an interrupted run never leaves a half-made tree behind a valid stamp.
rm -rf "$dir.new"
mkdir -p "$dir.new"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$dir.new"
done
llvm="$dir.new/usr/lib/llvm-22"
if [ ! -f "$llvm/lib/cmake/mlir/MLIRConfig.cmake" ] || [ ! -f "$llvm/lib/libMLIR.so.22.1" ]; then
  echo "setup-aarch64-llvm.sh: error: the unpacked packages hold no MLIRConfig.cmake or libMLIR.so.22.1" >&2
  exit 1
fi

mkdir -p "$dir.new/usr/lib/aarch64-linux-gnu"
ln -sfn /usr/lib/aarch64-linux-gnu/libLLVM.so.22.1 "$dir.new/usr/lib/aarch64-linux-gnu/libLLVM.so.22.1"
find "$llvm/lib" -maxdepth 1 -name '*.a' -type f -exec truncate -s 0 {} +

# Every file the CMake packages check for at find_package time.
mkdir -p "$llvm/bin"
grep -ho '_IMPORT_PREFIX}/[^"]*' "$llvm"/lib/cmake/llvm/*.cmake "$llvm"/lib/cmake/mlir/*.cmake |
  sed 's|^_IMPORT_PREFIX}/||' | sort -u | while read -r rel; do
  target="$llvm/$rel"
  if [ -e "$target" ] || [ -L "$target" ]; then
    continue
  fi
  case "$rel" in
    bin/*)
      if [ -x "/usr/lib/llvm-22/$rel" ]; then
        ln -s "/usr/lib/llvm-22/$rel" "$target"
      else
        : >"$target"
      fi
      ;;
    *) mkdir -p "$(dirname "$target")" && : >"$target" ;;
  esac
done

echo "$version" >"$dir.new/.smepilot-unpacked"
rm -rf "$dir"
mv "$dir.new" "$dir"
echo "setup-aarch64-llvm.sh: LLVM/MLIR $version for arm64 in $dir"
