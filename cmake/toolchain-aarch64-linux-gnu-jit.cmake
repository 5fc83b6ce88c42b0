# Cross build of the compiler and the JIT engine for aarch64 Linux, run under
# qemu-aarch64 (cmake/SMEPilotSubBuilds.cmake: compiler-aarch64). The same
# compilers, linker and emulator as the runtime's cross build
# (toolchain-aarch64-linux-gnu.cmake), but executables are linked dynamically:
# Debian ships LLVM/MLIR 22 for arm64 as shared libraries only.
#
#   cmake -S . -B build-aarch64-jit -G Ninja -DSMEPILOT_BUILD_TESTS=OFF \
#     -DSMEPILOT_ENABLE_SUBBUILDS=OFF \
#     -DMLIR_DIR=$SYSROOT/usr/lib/llvm-22/lib/cmake/mlir \
#     -DLLVM_DIR=$SYSROOT/usr/lib/llvm-22/lib/cmake/llvm \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu-jit.cmake
#
# $SYSROOT is what scripts/setup-aarch64-llvm.sh makes: the arm64 libmlir-22,
# libmlir-22-dev and llvm-22-dev packages unpacked (they cannot be installed
# beside the amd64 ones), their CMake packages and headers (whose
# llvm/Config/*.h name AArch64 as the native target), and the host's
# mlir-tblgen standing in for the arm64 one, since TableGen runs on the build
# machine.
set(SMEPILOT_AARCH64_LINK_DYNAMIC ON)
include("${CMAKE_CURRENT_LIST_DIR}/toolchain-aarch64-linux-gnu.cmake")
