# smepilot_add_fuzz_tests(NAME TARGET
#                         [SEED_DIRS dir...] [EXTRA_SEEDS file-or-glob...]
#                         [DICT file] [REPLAY file...] [ENVIRONMENT VAR=value...])
#
# The two ctest tests of one libFuzzer target (label fuzz):
#   fuzz-NAME              fuzzes for SMEPILOT_FUZZ_SECONDS on a fresh copy of
#                          the seeds (fuzz/run_fuzzer.cmake), in
#                          ${CMAKE_CURRENT_BINARY_DIR}/fuzz-NAME; fails on any
#                          crash, sanitizer report, leak, timeout or OOM and
#                          keeps the input in fuzz-NAME/artifacts/.
#   fuzz-NAME-regressions  replays every file in fuzz/regressions/ once: inputs
#                          that made one of the fuzzers fail. Every fuzzer
#                          replays all of them (an input made for one fuzzer is
#                          at worst refused by another, in microseconds).
# EXTRA_SEEDS may name files or globs (shared/models/*.gguf); both are
# resolved when the test runs, and a missing one is skipped.
set(SMEPILOT_FUZZ_ENVIRONMENT
  "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
  "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/cmake/lsan-suppressions.txt")

function(smepilot_add_fuzz_tests name target)
  cmake_parse_arguments(F "" "DICT" "SEED_DIRS;EXTRA_SEEDS;ENVIRONMENT" ${ARGN})
  set(fuzz_src ${PROJECT_SOURCE_DIR}/fuzz)
  set(env ${SMEPILOT_FUZZ_ENVIRONMENT} ${F_ENVIRONMENT})
  set(args -DFUZZER=$<TARGET_FILE:${target}> -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/fuzz-${name}
           -DSECONDS=${SMEPILOT_FUZZ_SECONDS} -DRSS_LIMIT_MB=2048 -DTIMEOUT_PER_INPUT=25)
  list(JOIN F_SEED_DIRS "|" seed_dirs)
  list(JOIN F_EXTRA_SEEDS "|" extra_seeds)
  list(APPEND args "-DSEED_DIRS=${seed_dirs}" "-DEXTRA_SEEDS=${extra_seeds}")
  if(F_DICT)
    list(APPEND args -DDICT=${F_DICT})
  endif()
  add_test(NAME fuzz-${name}
    COMMAND ${CMAKE_COMMAND} ${args} -P ${fuzz_src}/run_fuzzer.cmake)
  math(EXPR timeout "${SMEPILOT_FUZZ_SECONDS} + 300")
  set_tests_properties(fuzz-${name} PROPERTIES LABELS fuzz TIMEOUT ${timeout}
    ENVIRONMENT "${env}")

  file(GLOB regressions CONFIGURE_DEPENDS ${fuzz_src}/regressions/*)
  list(FILTER regressions EXCLUDE REGEX "/README\\.md$")
  if(regressions)
    add_test(NAME fuzz-${name}-regressions
      COMMAND ${target} -rss_limit_mb=2048 -timeout=25 ${regressions})
    set_tests_properties(fuzz-${name}-regressions PROPERTIES LABELS fuzz TIMEOUT 300
      ENVIRONMENT "${env}")
  endif()
endfunction()
