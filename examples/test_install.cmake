# The install test: `cmake --install` of the build tree into PREFIX, then the
# C example (SOURCE_DIR) configured and built against that tree alone with
# find_package(SMEPilotRuntime), and compiled with `pkg-config --cflags
# --libs smepilot-runtime` when PKG_CONFIG is set; both binaries must print
# stories260K's greedy text. Then the installed smepilot-run must find its
# default model under PREFIX/share/smepilot/models, not in the source tree.
set(expected "^ Once upon a time, there was a little girl named Lily. She loved to play\n$")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})

set(files
  include/smepilot_rt/smepilot.h include/smepilot_rt/engine.h
  lib/libsmepilot_rt.a
  lib/cmake/SMEPilotRuntime/SMEPilotRuntimeConfig.cmake
  lib/cmake/SMEPilotRuntime/SMEPilotRuntimeConfigVersion.cmake
  lib/cmake/SMEPilotRuntime/SMEPilotRuntimeTargets.cmake
  lib/pkgconfig/smepilot-runtime.pc
  bin/smepilot-run bin/smepilot-gguf bin/smepilot-bench bin/smepilot-synth
  share/smepilot/models/stories260K.gguf)
if(WITH_COMPILER)
  list(APPEND files bin/smepilot-opt bin/smepilot-compile bin/smepilot-build-model
       bin/smepilot-server)
endif()
foreach(f IN LISTS files)
  if(NOT EXISTS ${PREFIX}/${f})
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()

# find_package, from the installed tree only.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK}/build -G ${GENERATOR}
    -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK}/build)
run(${WORK}/build/smepilot-example-generate ${MODEL} "Once upon a time" 16)
if(NOT out MATCHES "${expected}")
  message(FATAL_ERROR "the example built with find_package printed:\n${out}")
endif()

# pkg-config, with the C compiler alone.
if(PKG_CONFIG)
  set(ENV{PKG_CONFIG_PATH} ${PREFIX}/lib/pkgconfig)
  run(${PKG_CONFIG} --cflags --libs smepilot-runtime)
  string(STRIP "${out}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${C_COMPILER} -std=c99 -Wall -Wextra -Wpedantic -Werror ${SOURCE_DIR}/generate.c ${flags}
      -o ${WORK}/generate-pkg-config)
  run(${WORK}/generate-pkg-config ${MODEL} "Once upon a time" 16)
  if(NOT out MATCHES "${expected}")
    message(FATAL_ERROR "the example built with pkg-config printed:\n${out}")
  endif()
else()
  message(STATUS "pkg-config not found: the pkg-config build is skipped")
endif()

# The installed smepilot-run without -m and without SMEPILOT_MODEL uses
# PREFIX/share/smepilot/models/stories260K.gguf.
unset(ENV{SMEPILOT_MODEL})
run(${PREFIX}/bin/smepilot-run -p "Once upon a time" -n 16 --temp 0 -t 1 -v)
if(NOT out MATCHES "${expected}")
  message(FATAL_ERROR "the installed smepilot-run printed:\n${out}")
endif()

# Moved away from its share/ directory, it says what to do instead.
file(MAKE_DIRECTORY ${WORK}/moved/bin)
file(COPY ${PREFIX}/bin/smepilot-run DESTINATION ${WORK}/moved/bin)
execute_process(COMMAND ${WORK}/moved/bin/smepilot-run -p hi -n 1
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "no model: pass -m FILE or set SMEPILOT_MODEL \\(the default model .*/moved/share/smepilot/models/stories260K.gguf does not exist\\)")
  message(FATAL_ERROR "smepilot-run without a model: exit ${rc}\n${out}\n${err}")
endif()
