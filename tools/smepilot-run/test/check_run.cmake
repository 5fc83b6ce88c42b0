# Runs a tool (smepilot-run unless TOOL=<name> says otherwise) once and checks
# what it did. Used by the CLI tests of smepilot-run and smepilot-synth:
#   cmake -DEXE=... [-DEMULATOR=...] -DARGS="a|b|c" [checks] -P check_run.cmake
# ARGS is "|"-separated (arguments may contain spaces). Checks:
#   EXPECT_ERROR=<regex>  the run must fail (non-zero exit), print nothing on
#                         stdout and exactly one line on stderr, of the form
#                         "<tool>: error: <message>" with <message>
#                         matching the regex; with STDOUT_REGEX, stdout
#                         must match it instead of being empty (a run that
#                         reports what it did before refusing to go on).
#   EXPECT_LAST_ERROR=<regex>  the same for a run that may print progress
#                         on stderr first: only the last line is checked.
#   Otherwise the run must exit 0, and:
#   ORACLE=<json> PROMPT=<P1>  stdout must start with the oracle's full_text
#                         (prompt + its 32 greedy tokens) and go on beyond it;
#   STDOUT_REGEX / STDERR_REGEX  must match; STDOUT_NOT_REGEX and
#                         STDERR_NOT_REGEX must not;
#   OUTPUT_FILE=<path> OUTPUT_SIZE=<bytes>  the file must exist with that size
#                         (removed before the run);
#   SAME_AS_ARGS="..."    a second run with these arguments must print the
#                         same stdout.
#   STDIN=<file>          the run's standard input (conversation mode's
#                         turns); otherwise it inherits ctest's.
# Hostile surroundings (with EXPECT_ERROR, or with EXPECT_SIGPIPE):
#   STDOUT=full           stdout is /dev/full (every write fails, ENOSPC);
#   STDOUT=closed-pipe | closed-pipe-ignored  stdout is a pipe whose reader
#                         has gone, SIGPIPE default or ignored (run_with.sh);
#   EXPECT_SIGPIPE=1      the run must end as killed by SIGPIPE (status 141)
#                         and print nothing on stderr;
#   FSIZE_KIB=<n>         files are limited to n KiB (a full disk);
#   VMEM_KIB=<n>          the address space is limited to n KiB (ulimit -v);
#   MEMLOCK_KIB=<n>       at most n KiB may be locked (ulimit -l), even as root;
#   COPY=<src>|<dst>      copy a file before the run; SYMLINK=<target>|<link>
#                         makes a link, MKDIR=<dir> a directory and
#                         MKFIFO=<path> a FIFO;
#   SAME_FILE=<a>|<b>     after the run, files a and b must be identical
#                         (nothing was overwritten);
#   NO_TEMP_IN=<dir>      after the run, no temporary (*.tmp-*) is left in dir.
cmake_minimum_required(VERSION 3.20)
if(NOT DEFINED TOOL)
  set(TOOL smepilot-run)
endif()

set(run_with ${CMAKE_CURRENT_LIST_DIR}/run_with.sh)

function(run_exe arg_string out_var err_var rc_var)
  string(REPLACE "|" ";" args "${arg_string}")
  set(wrap)
  if(DEFINED FSIZE_KIB)
    set(wrap bash ${run_with} fsize ${FSIZE_KIB})
  elseif(DEFINED VMEM_KIB)
    set(wrap bash ${run_with} vmem ${VMEM_KIB})
  elseif(DEFINED MEMLOCK_KIB)
    set(wrap bash ${run_with} memlock ${MEMLOCK_KIB})
  endif()
  if(STDOUT STREQUAL "full")
    execute_process(COMMAND ${wrap} ${EMULATOR} ${EXE} ${args}
                    RESULT_VARIABLE rc OUTPUT_FILE /dev/full ERROR_VARIABLE err)
    set(out "")
  elseif(STDOUT MATCHES "^closed-pipe")
    execute_process(COMMAND bash ${run_with} ${STDOUT} ${wrap} ${EMULATOR} ${EXE} ${args}
                    RESULT_VARIABLE script_rc OUTPUT_VARIABLE status ERROR_VARIABLE err)
    string(REGEX REPLACE "^exit ([0-9]+)\n$" "\\1" rc "${status}")
    set(out "")
  elseif(DEFINED STDIN)
    execute_process(COMMAND ${wrap} ${EMULATOR} ${EXE} ${args} INPUT_FILE ${STDIN}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  else()
    execute_process(COMMAND ${wrap} ${EMULATOR} ${EXE} ${args}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
endfunction()

# "a|b" -> the two paths, for the file checks.
macro(split_pair value first second)
  string(REPLACE "|" ";" _pair "${value}")
  list(GET _pair 0 ${first})
  list(GET _pair 1 ${second})
endmacro()

if(DEFINED OUTPUT_FILE)
  file(REMOVE "${OUTPUT_FILE}")
endif()
if(DEFINED MKDIR)
  file(MAKE_DIRECTORY "${MKDIR}")
endif()
if(DEFINED MKFIFO)
  file(REMOVE "${MKFIFO}")
  execute_process(COMMAND mkfifo "${MKFIFO}" COMMAND_ERROR_IS_FATAL ANY)
endif()
if(DEFINED COPY)
  split_pair("${COPY}" src dst)
  file(COPY_FILE "${src}" "${dst}")
endif()
if(DEFINED SYMLINK)
  split_pair("${SYMLINK}" target link)
  file(REMOVE "${link}")
  file(CREATE_LINK "${target}" "${link}" SYMBOLIC)
endif()
run_exe("${ARGS}" out err rc)
set(report "command: ${EXE} ${ARGS}\nexit: ${rc}\n--- stdout ---\n${out}\n--- stderr ---\n${err}")

# Checks on the files around the run, whatever its outcome.
if(DEFINED SAME_FILE)
  split_pair("${SAME_FILE}" a b)
  file(SHA256 "${a}" hash_a)
  file(SHA256 "${b}" hash_b)
  if(NOT hash_a STREQUAL hash_b)
    message(FATAL_ERROR "${a} was changed (differs from ${b})\n${report}")
  endif()
endif()
if(DEFINED NO_TEMP_IN)
  file(GLOB temps "${NO_TEMP_IN}/*.tmp-*")
  if(temps)
    file(REMOVE ${temps})
    message(FATAL_ERROR "temporaries left behind: ${temps}\n${report}")
  endif()
endif()
if(EXPECT_SIGPIPE)
  if(NOT rc STREQUAL "141")
    message(FATAL_ERROR "expected the run to end by SIGPIPE (status 141)\n${report}")
  endif()
  if(NOT err STREQUAL "")
    message(FATAL_ERROR "expected nothing on stderr after SIGPIPE\n${report}")
  endif()
  return()
endif()

if(DEFINED EXPECT_LAST_ERROR)
  if(rc STREQUAL "0" OR NOT rc MATCHES "^[0-9]+$")
    message(FATAL_ERROR "expected a clean error exit\n${report}")
  endif()
  if(NOT err MATCHES "(^|\n)${TOOL}: error: ${EXPECT_LAST_ERROR}\n$")
    message(FATAL_ERROR "the last line of stderr is not '${TOOL}: error: ${EXPECT_LAST_ERROR}'\n${report}")
  endif()
  return()
endif()
if(DEFINED EXPECT_ERROR)
  if(rc STREQUAL "0")
    message(FATAL_ERROR "expected a failure, got exit 0\n${report}")
  endif()
  if(NOT rc MATCHES "^[0-9]+$")
    message(FATAL_ERROR "expected a clean error exit, got '${rc}' (crash?)\n${report}")
  endif()
  if(DEFINED STDOUT_REGEX)
    if(NOT out MATCHES "${STDOUT_REGEX}")
      message(FATAL_ERROR "stdout does not match '${STDOUT_REGEX}'\n${report}")
    endif()
  elseif(NOT out STREQUAL "")
    message(FATAL_ERROR "expected nothing on stdout\n${report}")
  endif()
  if(NOT err MATCHES "^${TOOL}: error: [^\n]+\n$")
    message(FATAL_ERROR "expected exactly one line '${TOOL}: error: ...' on stderr\n${report}")
  endif()
  if(NOT err MATCHES "${EXPECT_ERROR}")
    message(FATAL_ERROR "stderr does not match '${EXPECT_ERROR}'\n${report}")
  endif()
  return()
endif()

if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "expected exit 0\n${report}")
endif()
if(DEFINED ORACLE)
  file(READ "${ORACLE}" json)
  string(JSON full GET "${json}" configs f32kv prompts ${PROMPT} full_text)
  string(LENGTH "${full}" full_len)
  string(STRIP "${out}" stripped)
  string(LENGTH "${stripped}" out_len)
  string(FIND "${out}" "${full}" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "stdout does not start with the oracle text\n--- expected prefix ---\n${full}\n${report}")
  endif()
  if(NOT out_len GREATER full_len)
    message(FATAL_ERROR "stdout stops at the oracle's 32 tokens; -n asked for more\n${report}")
  endif()
endif()
if(DEFINED STDOUT_REGEX AND NOT out MATCHES "${STDOUT_REGEX}")
  message(FATAL_ERROR "stdout does not match '${STDOUT_REGEX}'\n${report}")
endif()
if(DEFINED STDERR_REGEX AND NOT err MATCHES "${STDERR_REGEX}")
  message(FATAL_ERROR "stderr does not match '${STDERR_REGEX}'\n${report}")
endif()
if(DEFINED STDOUT_NOT_REGEX AND out MATCHES "${STDOUT_NOT_REGEX}")
  message(FATAL_ERROR "stdout matches '${STDOUT_NOT_REGEX}'\n${report}")
endif()
if(DEFINED STDERR_NOT_REGEX AND err MATCHES "${STDERR_NOT_REGEX}")
  message(FATAL_ERROR "stderr matches '${STDERR_NOT_REGEX}'\n${report}")
endif()
if(DEFINED OUTPUT_FILE)
  if(NOT EXISTS "${OUTPUT_FILE}")
    message(FATAL_ERROR "${OUTPUT_FILE} was not written\n${report}")
  endif()
  file(SIZE "${OUTPUT_FILE}" size)
  if(NOT size EQUAL OUTPUT_SIZE)
    message(FATAL_ERROR "${OUTPUT_FILE} has ${size} bytes, expected ${OUTPUT_SIZE}\n${report}")
  endif()
endif()
if(DEFINED SAME_AS_ARGS)
  run_exe("${SAME_AS_ARGS}" out2 err2 rc2)
  if(NOT rc2 STREQUAL "0" OR NOT out2 STREQUAL out)
    message(FATAL_ERROR "second run (${SAME_AS_ARGS}) differs\n--- second stdout ---\n${out2}\n${report}")
  endif()
endif()
