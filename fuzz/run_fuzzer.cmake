# Runs a libFuzzer target for a fixed time on a fresh copy of its seeds; fails
# when libFuzzer reports anything (crash, sanitizer error, leak, timeout, OOM).
#
#   cmake -DFUZZER=path -DSEED_DIRS=dir|... [-DEXTRA_SEEDS=file-or-glob|...]
#         [-DDICT=file] -DWORK_DIR=dir [-DSECONDS=60] [-DRSS_LIMIT_MB=2048]
#         [-DTIMEOUT_PER_INPUT=25] -P run_fuzzer.cmake
#
# Lists are '|'-separated (a ';' would split the -D argument). Every file in
# each SEED_DIRS directory is a seed; EXTRA_SEEDS are files or globs
# (shared/models/*.gguf), resolved now: a missing one is skipped.
foreach(var FUZZER SEED_DIRS WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT DEFINED SECONDS)
  set(SECONDS 60)
endif()
if(NOT DEFINED RSS_LIMIT_MB)
  set(RSS_LIMIT_MB 2048)
endif()
if(NOT DEFINED TIMEOUT_PER_INPUT)
  set(TIMEOUT_PER_INPUT 25)
endif()

set(corpus "${WORK_DIR}/corpus")
set(artifacts "${WORK_DIR}/artifacts")
file(REMOVE_RECURSE "${corpus}" "${artifacts}")
file(MAKE_DIRECTORY "${corpus}" "${artifacts}")

string(REPLACE "|" ";" seed_dirs "${SEED_DIRS}")
string(REPLACE "|" ";" extra_seeds "${EXTRA_SEEDS}")
set(seeds)
foreach(dir IN LISTS seed_dirs)
  file(GLOB dir_seeds "${dir}/*")
  list(APPEND seeds ${dir_seeds})
endforeach()
foreach(extra IN LISTS extra_seeds)
  file(GLOB found_extra "${extra}")
  if(found_extra)
    list(APPEND seeds ${found_extra})
  else()
    message(STATUS "run_fuzzer: ${extra} not found, fuzzing without it")
  endif()
endforeach()
if(NOT seeds)
  message(FATAL_ERROR "run_fuzzer: no seeds in ${SEED_DIRS}")
endif()
file(COPY ${seeds} DESTINATION "${corpus}")
# libFuzzer would cut inputs larger than its default limit (1 MiB) when it
# reads the corpus: allow the largest seed whole.
set(max_len 0)
foreach(seed IN LISTS seeds)
  file(SIZE "${seed}" size)
  if(size GREATER max_len)
    set(max_len ${size})
  endif()
endforeach()
set(args -max_total_time=${SECONDS} -rss_limit_mb=${RSS_LIMIT_MB}
         -timeout=${TIMEOUT_PER_INPUT} -print_final_stats=1
         -artifact_prefix=${artifacts}/)
if(max_len GREATER 1048576)
  list(APPEND args -max_len=${max_len})
endif()
if(DICT)
  list(APPEND args -dict=${DICT})
endif()
list(LENGTH seeds n_seeds)
message(STATUS "run_fuzzer: ${FUZZER} for ${SECONDS} s on ${n_seeds} seeds in ${corpus}")
execute_process(COMMAND "${FUZZER}" ${args} "${corpus}" RESULT_VARIABLE rc)
file(GLOB found "${artifacts}/*")
if(NOT rc EQUAL 0 OR found)
  list(JOIN found "\n  " found_list)
  message(FATAL_ERROR "run_fuzzer: libFuzzer failed (exit ${rc}). Inputs kept:\n  ${found_list}\n"
                      "Reproduce with: ${FUZZER} <input>")
endif()
message(STATUS "run_fuzzer: no crash in ${SECONDS} s")
