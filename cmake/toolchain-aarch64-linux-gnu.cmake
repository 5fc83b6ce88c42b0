# Cross build for aarch64 Linux with clang-22 and lld-22, statically linked,
# run under qemu-aarch64 (user mode) through CMAKE_CROSSCOMPILING_EMULATOR.
#
#   cmake -S . -B build-aarch64 -G Ninja -DSMEPILOT_BUILD_COMPILER=OFF \
#     -DSMEPILOT_GTEST_FROM_SOURCE=ON \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
#
# No sysroot: Debian's cross packages (libc6-dev-arm64-cross,
# libstdc++-12-dev-arm64-cross, libgcc-12-dev-arm64-cross) put the C library
# headers in /usr/aarch64-linux-gnu and GCC's libraries and crt files in
# /usr/lib/gcc-cross/aarch64-linux-gnu/12; clang finds both on its own for
# --target=aarch64-linux-gnu. Foreign -dev packages (libpcre2-dev:arm64, which
# pulls in libc6-dev:arm64) come from Debian multiarch and live in
# /usr/lib/aarch64-linux-gnu, also on clang's default search path.
#
# Static linking keeps the binaries self-contained, so QEMU needs no -L prefix
# to find an aarch64 dynamic loader and libraries.
#
# Traps (see shared/TOOLCHAIN.md): the unversioned `clang` and `ld.lld` on
# Debian 12 are LLVM 14. The compilers below are the versioned clang-22, and the
# linker is named by full path (--ld-path) so that -fuse-ld=lld can never
# resolve to /usr/bin/ld.lld (LLVM 14).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(SMEPILOT_AARCH64_TRIPLE aarch64-linux-gnu)

find_program(SMEPILOT_CLANG_C NAMES clang-22 PATHS /usr/lib/llvm-22/bin REQUIRED)
find_program(SMEPILOT_CLANG_CXX NAMES clang++-22 PATHS /usr/lib/llvm-22/bin REQUIRED)
find_program(SMEPILOT_LLD NAMES ld.lld-22 PATHS /usr/lib/llvm-22/bin REQUIRED)

set(CMAKE_C_COMPILER "${SMEPILOT_CLANG_C}")
set(CMAKE_CXX_COMPILER "${SMEPILOT_CLANG_CXX}")
set(CMAKE_C_COMPILER_TARGET ${SMEPILOT_AARCH64_TRIPLE})
set(CMAKE_CXX_COMPILER_TARGET ${SMEPILOT_AARCH64_TRIPLE})
set(CMAKE_ASM_COMPILER_TARGET ${SMEPILOT_AARCH64_TRIPLE})

# llvm-ar/llvm-ranlib of the same release (GNU ar would also do).
find_program(CMAKE_AR NAMES llvm-ar-22 PATHS /usr/lib/llvm-22/bin)
find_program(CMAKE_RANLIB NAMES llvm-ranlib-22 PATHS /usr/lib/llvm-22/bin)

set(CMAKE_SHARED_LINKER_FLAGS_INIT "-fuse-ld=lld --ld-path=${SMEPILOT_LLD}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-fuse-ld=lld --ld-path=${SMEPILOT_LLD}")
if(SMEPILOT_AARCH64_LINK_DYNAMIC)
  # The compiler's cross build (cmake/toolchain-aarch64-linux-gnu-jit.cmake)
  # links the arm64 libMLIR.so / libLLVM.so, which exist only as shared
  # libraries: executables are dynamic, and find their aarch64 loader and
  # libraries in the host's multiarch directories (libc6:arm64 and
  # libllvm22:arm64's dependencies, installed by scripts/setup.sh).
  set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld --ld-path=${SMEPILOT_LLD}")
else()
  set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld --ld-path=${SMEPILOT_LLD} -static")
  # Libraries: static archives only (libpcre2-8.a, not the .so next to it: lld
  # refuses a shared object in a -static link). CMakeGenericSystem resets
  # CMAKE_FIND_LIBRARY_SUFFIXES after the toolchain file is read, so this is
  # set from a platform-override file, which CMake reads after its own
  # platform files.
  set(CMAKE_USER_MAKE_RULES_OVERRIDE "${CMAKE_CURRENT_LIST_DIR}/toolchain-static-libs.cmake")
endif()
# Never the host's x86-64 libraries or package files.
set(CMAKE_LIBRARY_ARCHITECTURE ${SMEPILOT_AARCH64_TRIPLE})
list(APPEND CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu
     /usr/lib/x86_64-linux-gnu/cmake /usr/lib/x86_64-linux-gnu/pkgconfig)
# Programs (python3, qemu) run on the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# pkg-config: only the arm64 multiarch .pc files (and the arch-independent
# ones), never the host's. Environment variables set here reach the
# pkg-config that FindPkgConfig runs during configure.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${SMEPILOT_AARCH64_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Run aarch64 binaries (tests, gtest discovery) under QEMU user mode with equal
# SVE and SME vector lengths: a streaming kernel that calls out crashes when
# the SVE length exceeds the SME one, which is QEMU's default (512 vs 256 bits).
set(SMEPILOT_QEMU_VECTOR_BYTES 64 CACHE STRING
    "SVE and SME vector length, in bytes, given to qemu-aarch64 (16..256, a power of two; 64 = 512 bits)")
if(NOT SMEPILOT_QEMU_VECTOR_BYTES MATCHES "^(16|32|64|128|256)$")
  message(FATAL_ERROR "SMEPILOT_QEMU_VECTOR_BYTES must be 16, 32, 64, 128 or 256 "
                      "(got '${SMEPILOT_QEMU_VECTOR_BYTES}')")
endif()
find_program(SMEPILOT_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR
    "${SMEPILOT_QEMU_AARCH64};-cpu;max,sve-default-vector-length=${SMEPILOT_QEMU_VECTOR_BYTES},sme-default-vector-length=${SMEPILOT_QEMU_VECTOR_BYTES}")
