# Sub-builds of this same source tree, driven from the host build so that one
# `cmake --build` builds everything and one `ctest` runs everything:
#
#   runtime-aarch64    the runtime, its unit tests and the runtime-only tools,
#                      cross-built for aarch64 (clang-22, lld-22, -static;
#                      cmake/toolchain-aarch64-linux-gnu.cmake), GoogleTest built
#                      from /usr/src/googletest. Tests run under qemu-aarch64.
#   runtime-sanitize   the same for the host with clang-22 and
#                      SMEPILOT_SANITIZE=address,undefined, plus the runtime's
#                      libFuzzer targets (fuzz/: GGUF reader, tokenizers).
#   runtime-tsan       the runtime's unit tests with clang-22 and
#                      SMEPILOT_SANITIZE=thread (ThreadSanitizer), for the
#                      dispatch executor, the thread pool and the compiled
#                      engine.
#   compiler-aarch64   the compiler and the JIT engine cross-built for aarch64
#                      (cmake/toolchain-aarch64-linux-gnu-jit.cmake: dynamic,
#                      against Debian's arm64 libMLIR.so / libLLVM.so, which
#                      scripts/setup-aarch64-llvm.sh unpacks): smepilot-run
#                      only. Its tests are this build's, run under
#                      qemu-aarch64 with SME: the JIT detects SME and compiles
#                      SME kernels inside the emulated process.
#   compiler-sanitize  the compiler with the same sanitizers (clang-22, MLIR 22;
#                      libMLIR.so itself is not instrumented): the tools the lit
#                      suite runs and the JIT engine's fuzzer (fuzz/jit/). Host
#                      build with the compiler only.
#
# The runtime ones configure this tree with SMEPILOT_BUILD_COMPILER=OFF (no
# MLIR); all with SMEPILOT_ENABLE_SUBBUILDS=OFF. Their build step always runs
# (BUILD_ALWAYS): the sub-build's own Ninja decides what is out of date, so
# editing a runtime source rebuilds it in every build. The build steps share
# Ninja's `console` pool, so they never run at the same time (each already
# uses SMEPILOT_SUBBUILD_JOBS jobs), and their output streams live.
#
# ctest tests of the host build (see docs/building.md):
#   runtime-aarch64-qemu   label aarch64    ctest of runtime-aarch64
#   runtime-sanitize       label sanitizer  ctest of runtime-sanitize, less fuzz
#   jit-aarch64-qemu.*     label aarch64    compiler-aarch64's smepilot-run
#                                           --engine jit under qemu-aarch64
#   runtime-tsan           label sanitizer  the Dispatch*, ThreadPool* and
#                                           CompiledEngine* tests of runtime-tsan
#   compiler-sanitize-lit  label sanitizer  the lit suite on compiler-sanitize's tools
#   fuzz-gguf              label fuzz       a fuzzer's tests in its sub-build: the
#   fuzz-tokenizer                          fuzz run and the replay of
#   fuzz-jit-model                          fuzz/regressions/
include(ExternalProject)

option(SMEPILOT_AARCH64_SUBBUILD "Cross-build the runtime and its tests for aarch64 and run them under qemu-aarch64" ON)
option(SMEPILOT_AARCH64_JIT_SUBBUILD
       "Cross-build the compiler and smepilot-run's JIT for aarch64 and run it under qemu-aarch64" ON)
set(SMEPILOT_AARCH64_LLVM_ROOT /opt/smepilot/aarch64-llvm-22 CACHE PATH
    "Where scripts/setup-aarch64-llvm.sh unpacked LLVM/MLIR 22 for arm64")
option(SMEPILOT_SANITIZER_SUBBUILD "Build the runtime and its tests with ASan+UBSan (clang-22) and run them" ON)
option(SMEPILOT_TSAN_SUBBUILD "Build the runtime's unit tests with ThreadSanitizer (clang-22) and run the executor's" ON)
option(SMEPILOT_COMPILER_SANITIZER_SUBBUILD
       "Build the compiler tools with ASan+UBSan (clang-22) and run the lit suite and the JIT fuzzer on them" ON)
# SMEPILOT_FUZZ and SMEPILOT_FUZZ_SECONDS are defined in fuzz/CMakeLists.txt
# and passed on to the sanitizer sub-build.
set(SMEPILOT_SUBBUILD_JOBS 2 CACHE STRING "Parallel jobs inside each sub-build (its build and its ctest)")
set(SMEPILOT_QEMU_VECTOR_BYTES 64 CACHE STRING
    "SVE and SME vector length, in bytes, for qemu-aarch64 (16..256, a power of two; 64 = 512 bits)")

set(_smepilot_subbuild_base_args
  -DSMEPILOT_BUILD_TESTS=ON
  -DSMEPILOT_ENABLE_SUBBUILDS=OFF
  -DSMEPILOT_SHARED_DIR=${SMEPILOT_SHARED_DIR}
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
if(CMAKE_MAKE_PROGRAM)
  list(APPEND _smepilot_subbuild_base_args -DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM})
endif()
set(_smepilot_subbuild_common_args ${_smepilot_subbuild_base_args} -DSMEPILOT_BUILD_COMPILER=OFF)

# The ctest of a sub-build, as one test of the host build. --no-tests=error:
# a sub-build that registered no test (e.g. was never built) fails.
function(_smepilot_add_subbuild_test name binary_dir)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "CTEST_ARGS;ENVIRONMENT" ${ARGN})
  add_test(NAME ${name}
    COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${binary_dir} --output-on-failure
            --no-tests=error ${ARG_CTEST_ARGS})
  # RUN_SERIAL: the sub-build's ctest runs its own tests in parallel.
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
    RUN_SERIAL ON)
  if(ARG_ENVIRONMENT)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ARG_ENVIRONMENT}")
  endif()
endfunction()

# One fuzzer's tests in a sub-build (fuzz-NAME and fuzz-NAME-regressions), as
# one test of the host build. Not RUN_SERIAL: one process, it can share the
# machine with host tests.
function(_smepilot_add_fuzz_subbuild_test name binary_dir)
  math(EXPR timeout "${SMEPILOT_FUZZ_SECONDS} + 600")
  add_test(NAME fuzz-${name}
    COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${binary_dir} --output-on-failure
            --no-tests=error --tests-regex "^fuzz-${name}(-regressions|-models)?$")
  set_tests_properties(fuzz-${name} PROPERTIES LABELS fuzz TIMEOUT ${timeout})
endfunction()

if(SMEPILOT_AARCH64_SUBBUILD)
  set(_dir ${CMAKE_BINARY_DIR}/runtime-aarch64)
  ExternalProject_Add(runtime-aarch64
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${_dir}
    PREFIX ${CMAKE_BINARY_DIR}/subbuilds/runtime-aarch64
    CMAKE_GENERATOR ${CMAKE_GENERATOR}
    CMAKE_ARGS
      ${_smepilot_subbuild_common_args}
      -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/toolchain-aarch64-linux-gnu.cmake
      -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
      -DSMEPILOT_GTEST_FROM_SOURCE=ON
      -DSMEPILOT_QEMU_VECTOR_BYTES=${SMEPILOT_QEMU_VECTOR_BYTES}
    BUILD_COMMAND ${CMAKE_COMMAND} --build ${_dir} --parallel ${SMEPILOT_SUBBUILD_JOBS}
    BUILD_ALWAYS ON
    INSTALL_COMMAND ""
    USES_TERMINAL_CONFIGURE ON
    USES_TERMINAL_BUILD ON)
  _smepilot_add_subbuild_test(runtime-aarch64-qemu ${_dir}
    LABEL aarch64 TIMEOUT 1800
    CTEST_ARGS --parallel ${SMEPILOT_SUBBUILD_JOBS})
endif()

# The JIT on an SME machine, by execution: smepilot-run with the compiler,
# cross-built, run under qemu-aarch64 -cpu max (SVE and SME at
# SMEPILOT_QEMU_VECTOR_BYTES). LLVM runs emulated (10-30x slower than here):
# each test has its own timeout, and only stories260K is a test; the larger
# models are reported in bench/RESULTS.md.
if(SMEPILOT_AARCH64_JIT_SUBBUILD AND SMEPILOT_BUILD_COMPILER)
  set(_llvm ${SMEPILOT_AARCH64_LLVM_ROOT}/usr/lib/llvm-22)
  if(NOT EXISTS ${_llvm}/lib/cmake/mlir/MLIRConfig.cmake)
    message(FATAL_ERROR "The compiler's aarch64 sub-build needs LLVM/MLIR 22 for arm64 in "
                        "${SMEPILOT_AARCH64_LLVM_ROOT} (scripts/setup.sh makes it with "
                        "scripts/setup-aarch64-llvm.sh); or configure with "
                        "-DSMEPILOT_AARCH64_JIT_SUBBUILD=OFF")
  endif()
  find_program(SMEPILOT_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static REQUIRED)
  set(_dir ${CMAKE_BINARY_DIR}/compiler-aarch64)
  set(_args ${_smepilot_subbuild_base_args})
  list(REMOVE_ITEM _args -DSMEPILOT_BUILD_TESTS=ON)
  ExternalProject_Add(compiler-aarch64
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${_dir}
    PREFIX ${CMAKE_BINARY_DIR}/subbuilds/compiler-aarch64
    CMAKE_GENERATOR ${CMAKE_GENERATOR}
    CMAKE_ARGS
      ${_args}
      -DSMEPILOT_BUILD_TESTS=OFF
      -DSMEPILOT_BUILD_COMPILER=ON
      -DSMEPILOT_BUILD_SERVER=OFF
      -DMLIR_DIR=${_llvm}/lib/cmake/mlir
      -DLLVM_DIR=${_llvm}/lib/cmake/llvm
      -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/toolchain-aarch64-linux-gnu-jit.cmake
      -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
      -DSMEPILOT_QEMU_VECTOR_BYTES=${SMEPILOT_QEMU_VECTOR_BYTES}
    BUILD_COMMAND ${CMAKE_COMMAND} --build ${_dir} --parallel ${SMEPILOT_SUBBUILD_JOBS}
                  --target smepilot-run
    BUILD_ALWAYS ON
    INSTALL_COMMAND ""
    USES_TERMINAL_CONFIGURE ON
    USES_TERMINAL_BUILD ON)
  set(_qemu "${SMEPILOT_QEMU_AARCH64};-cpu;max,sve-default-vector-length=${SMEPILOT_QEMU_VECTOR_BYTES},sme-default-vector-length=${SMEPILOT_QEMU_VECTOR_BYTES}")
  set(_models ${SMEPILOT_MODELS_DIR})
  set(_stories ${_models}/stories260K.gguf)
  set(_check ${PROJECT_SOURCE_DIR}/tools/smepilot-run/test/check_run.cmake)
  set(_cache ${CMAKE_BINARY_DIR}/jit-aarch64-object-cache)
  # jit_aarch64_test(NAME TIMEOUT SECONDS ARGS <a|b|...> [CHECK VAR=VALUE ...])
  function(_smepilot_jit_aarch64_test name)
    cmake_parse_arguments(T "" "ARGS;TIMEOUT" "CHECK" ${ARGN})
    set(defs)
    foreach(c IN LISTS T_CHECK)
      list(APPEND defs "-D${c}")
    endforeach()
    add_test(NAME jit-aarch64-qemu.${name}
             COMMAND ${CMAKE_COMMAND} -DEXE=${_dir}/bin/smepilot-run "-DEMULATOR=${_qemu}"
                     "-DARGS=${T_ARGS}" ${defs} -P ${_check})
    set_tests_properties(jit-aarch64-qemu.${name} PROPERTIES LABELS aarch64
      TIMEOUT ${T_TIMEOUT} ENVIRONMENT "XDG_CACHE_HOME=${_cache}/${name}")
  endfunction()
  add_test(NAME jit-aarch64-qemu.clear_object_cache
           COMMAND ${CMAKE_COMMAND} -E rm -rf ${_cache})
  set_tests_properties(jit-aarch64-qemu.clear_object_cache PROPERTIES
                       FIXTURES_SETUP jit_aarch64_object_cache LABELS aarch64)
  # The main job on an SME machine: the JIT detects SME (HWCAP2, the
  # streaming VL), compiles for sme-sve with the profile it chose, puts
  # dispatches on the matrix unit, and prints llama.cpp's greedy text, which
  # is the host JIT's (smepilot-run.jit_stories_greedy) and the reference
  # engine's in the same emulated process.
  _smepilot_jit_aarch64_test(stories_greedy TIMEOUT 900
    ARGS "-m|${_stories}|-p|Once upon a time|-n|64|--temp|0|--engine|jit|-t|2|-v"
    CHECK ORACLE=${_models}/oracles/stories260K.json PROMPT=P1
          "SAME_AS_ARGS=-m|${_stories}|-p|Once upon a time|-n|64|--temp|0|--engine|reference"
          "STDERR_REGEX=jit: host aarch64 [^\n]*: sme pipeline for sme-sve, profile .*schedule phase forward_c[0-9]+: [0-9]+ dispatches: cpu [0-9]+, sme [1-9][0-9]*,")
  # Collaborative kernels compiled in the emulated process: a profile whose
  # matrix unit is as fast as the cores (tools/smepilot-run/test/profiles)
  # makes the Roofline model split the projections between the units, in
  # prefill and decode. The text stays llama.cpp's.
  _smepilot_jit_aarch64_test(stories_collab TIMEOUT 900
    ARGS "-m|${_stories}|-p|Once upon a time|-n|40|--temp|0|--engine|jit|-t|2|-v|--profile|${PROJECT_SOURCE_DIR}/tools/smepilot-run/test/profiles/sme-sve-balanced.json"
    CHECK ORACLE=${_models}/oracles/stories260K.json PROMPT=P1
          "STDERR_REGEX=profile sme-sve-balanced \\(override\\).*schedule phase forward_c1: [0-9]+ dispatches: cpu [0-9]+, sme [0-9]+, collab [1-9][0-9]*,.*schedule phase forward_c64: [0-9]+ dispatches: cpu [0-9]+, sme [0-9]+, collab [1-9][0-9]*,")
  # Run-time adaptation is on by default (adaptive.h): under QEMU the
  # matrix unit is far slower than the test profile says, so the collab
  # shares are re-planned from the measured kernel times while the text is
  # generated; the text above cannot change. --adaptive off keeps the
  # compiler's plans and re-plans nothing.
  _smepilot_jit_aarch64_test(stories_collab_fixed TIMEOUT 900
    ARGS "-m|${_stories}|-p|Once upon a time|-n|40|--temp|0|--engine|jit|-t|2|-v|--adaptive|off|--profile|${PROJECT_SOURCE_DIR}/tools/smepilot-run/test/profiles/sme-sve-balanced.json"
    CHECK ORACLE=${_models}/oracles/stories260K.json PROMPT=P1
          "STDERR_REGEX=schedule phase forward_c1: [0-9]+ dispatches: cpu [0-9]+, sme [0-9]+, collab [1-9]"
          "STDERR_NOT_REGEX=adapt:")
  set_tests_properties(jit-aarch64-qemu.stories_greedy jit-aarch64-qemu.stories_collab
                       jit-aarch64-qemu.stories_collab_fixed
                       PROPERTIES FIXTURES_REQUIRED jit_aarch64_object_cache)
endif()

if(SMEPILOT_SANITIZER_SUBBUILD)
  find_program(SMEPILOT_SANITIZER_CC NAMES clang-22 PATHS /usr/lib/llvm-22/bin)
  find_program(SMEPILOT_SANITIZER_CXX NAMES clang++-22 PATHS /usr/lib/llvm-22/bin)
  if(NOT SMEPILOT_SANITIZER_CC OR NOT SMEPILOT_SANITIZER_CXX)
    message(FATAL_ERROR "The sanitizer sub-build needs clang-22 (scripts/setup.sh installs it); "
                        "or configure with -DSMEPILOT_SANITIZER_SUBBUILD=OFF")
  endif()
  set(_dir ${CMAKE_BINARY_DIR}/runtime-sanitize)
  ExternalProject_Add(runtime-sanitize
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${_dir}
    PREFIX ${CMAKE_BINARY_DIR}/subbuilds/runtime-sanitize
    CMAKE_GENERATOR ${CMAKE_GENERATOR}
    CMAKE_ARGS
      ${_smepilot_subbuild_common_args}
      -DCMAKE_C_COMPILER=${SMEPILOT_SANITIZER_CC}
      -DCMAKE_CXX_COMPILER=${SMEPILOT_SANITIZER_CXX}
      # -O1 -g with assertions on: readable reports at a bearable speed.
      -DCMAKE_BUILD_TYPE=RelWithDebInfo
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g"
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
      -DSMEPILOT_SANITIZE=address,undefined
      -DSMEPILOT_FUZZ=${SMEPILOT_FUZZ}
      -DSMEPILOT_FUZZ_SECONDS=${SMEPILOT_FUZZ_SECONDS}
    BUILD_COMMAND ${CMAKE_COMMAND} --build ${_dir} --parallel ${SMEPILOT_SUBBUILD_JOBS}
    BUILD_ALWAYS ON
    INSTALL_COMMAND ""
    USES_TERMINAL_CONFIGURE ON
    USES_TERMINAL_BUILD ON)
  set(_sanitizer_env
    "ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  _smepilot_add_subbuild_test(runtime-sanitize ${_dir}
    LABEL sanitizer TIMEOUT 1800
    CTEST_ARGS --parallel ${SMEPILOT_SUBBUILD_JOBS} --label-exclude fuzz
    ENVIRONMENT ${_sanitizer_env})
  if(SMEPILOT_FUZZ)
    _smepilot_add_fuzz_subbuild_test(gguf ${_dir})
    _smepilot_add_fuzz_subbuild_test(tokenizer ${_dir})
  endif()
endif()

# The runtime's unit tests with ThreadSanitizer: the executor's workers, queues
# and trace, the thread pool's hand-offs, the compiled engine on the pool.
# Only smepilot_rt_tests is built and only those suites run (a few minutes on
# two cores); the rest of the runtime is single-threaded code that
# runtime-sanitize covers.
if(SMEPILOT_TSAN_SUBBUILD)
  find_program(SMEPILOT_SANITIZER_CC NAMES clang-22 PATHS /usr/lib/llvm-22/bin)
  find_program(SMEPILOT_SANITIZER_CXX NAMES clang++-22 PATHS /usr/lib/llvm-22/bin)
  if(NOT SMEPILOT_SANITIZER_CC OR NOT SMEPILOT_SANITIZER_CXX)
    message(FATAL_ERROR "The ThreadSanitizer sub-build needs clang-22 (scripts/setup.sh installs "
                        "it); or configure with -DSMEPILOT_TSAN_SUBBUILD=OFF")
  endif()
  set(_dir ${CMAKE_BINARY_DIR}/runtime-tsan)
  ExternalProject_Add(runtime-tsan
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${_dir}
    PREFIX ${CMAKE_BINARY_DIR}/subbuilds/runtime-tsan
    CMAKE_GENERATOR ${CMAKE_GENERATOR}
    CMAKE_ARGS
      ${_smepilot_subbuild_common_args}
      -DCMAKE_C_COMPILER=${SMEPILOT_SANITIZER_CC}
      -DCMAKE_CXX_COMPILER=${SMEPILOT_SANITIZER_CXX}
      -DCMAKE_BUILD_TYPE=RelWithDebInfo
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g"
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
      -DSMEPILOT_SANITIZE=thread
      -DSMEPILOT_FUZZ=OFF
    BUILD_COMMAND ${CMAKE_COMMAND} --build ${_dir} --parallel ${SMEPILOT_SUBBUILD_JOBS}
                  --target smepilot_rt_tests
    BUILD_ALWAYS ON
    INSTALL_COMMAND ""
    USES_TERMINAL_CONFIGURE ON
    USES_TERMINAL_BUILD ON)
  _smepilot_add_subbuild_test(runtime-tsan ${_dir}
    LABEL sanitizer TIMEOUT 900
    CTEST_ARGS --parallel ${SMEPILOT_SUBBUILD_JOBS}
               --tests-regex "^(Dispatch|ThreadPool|CompiledEngine)"
    ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")
endif()

# The compiler with ASan+UBSan. Only the tools the lit suite runs and the JIT
# fuzzer are built, not the GoogleTest suites (the runtime's run in
# runtime-sanitize; the compiler's and the JIT engine's are not sanitized
# yet). libMLIR.so and libLLVM.so are not instrumented: the build
# passes -fno-sanitize=vptr (top-level CMakeLists.txt), and the leaks they
# make on purpose (static registries, ManagedStatic) are suppressed by module
# in cmake/lsan-suppressions.txt, so a leak of ours still fails.
if(SMEPILOT_COMPILER_SANITIZER_SUBBUILD AND SMEPILOT_BUILD_COMPILER)
  find_program(SMEPILOT_SANITIZER_CC NAMES clang-22 PATHS /usr/lib/llvm-22/bin)
  find_program(SMEPILOT_SANITIZER_CXX NAMES clang++-22 PATHS /usr/lib/llvm-22/bin)
  if(NOT SMEPILOT_SANITIZER_CC OR NOT SMEPILOT_SANITIZER_CXX)
    message(FATAL_ERROR "The compiler sanitizer sub-build needs clang-22 (scripts/setup.sh "
                        "installs it); or configure with -DSMEPILOT_COMPILER_SANITIZER_SUBBUILD=OFF")
  endif()
  set(_dir ${CMAKE_BINARY_DIR}/compiler-sanitize)
  # smepilot-test-depends: every tool the lit suite runs (test/CMakeLists.txt).
  set(_targets smepilot-test-depends)
  if(SMEPILOT_FUZZ)
    list(APPEND _targets jit_model_fuzz)
  endif()
  ExternalProject_Add(compiler-sanitize
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${_dir}
    PREFIX ${CMAKE_BINARY_DIR}/subbuilds/compiler-sanitize
    CMAKE_GENERATOR ${CMAKE_GENERATOR}
    CMAKE_ARGS
      ${_smepilot_subbuild_base_args}
      -DSMEPILOT_BUILD_COMPILER=ON
      -DMLIR_DIR=${MLIR_DIR}
      -DCMAKE_C_COMPILER=${SMEPILOT_SANITIZER_CC}
      -DCMAKE_CXX_COMPILER=${SMEPILOT_SANITIZER_CXX}
      -DCMAKE_BUILD_TYPE=RelWithDebInfo
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g"
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
      -DSMEPILOT_SANITIZE=address,undefined
      -DSMEPILOT_FUZZ=${SMEPILOT_FUZZ}
      -DSMEPILOT_FUZZ_SECONDS=${SMEPILOT_FUZZ_SECONDS}
    BUILD_COMMAND ${CMAKE_COMMAND} --build ${_dir} --parallel ${SMEPILOT_SUBBUILD_JOBS}
                  --target ${_targets}
    BUILD_ALWAYS ON
    INSTALL_COMMAND ""
    USES_TERMINAL_CONFIGURE ON
    USES_TERMINAL_BUILD ON)
  # The lit suite on the sanitized tools (lit.cfg.py sets the sanitizers'
  # options for a sanitizer build). e2e/sme-qemu.test is unsupported there:
  # it links against the runtime-aarch64 archives, which this sub-build does
  # not have, and runs under qemu, where nothing is sanitized.
  add_test(NAME compiler-sanitize-lit
    COMMAND ${SMEPILOT_LIT} -sv --order=lexical -j ${SMEPILOT_SUBBUILD_JOBS} ${_dir}/test)
  set_tests_properties(compiler-sanitize-lit PROPERTIES LABELS "sanitizer;compiler"
    TIMEOUT 2400 RUN_SERIAL ON)
  if(SMEPILOT_FUZZ)
    _smepilot_add_fuzz_subbuild_test(jit-model ${_dir})
  endif()
endif()
