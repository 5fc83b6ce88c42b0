# `cmake --install`: the tools, the runtime library and its headers, a CMake
# package (find_package(SMEPilotRuntime) -> SMEPilotRuntime::runtime) and a
# pkg-config file (smepilot-runtime.pc); docs/embedding.md. Layout under the
# prefix: bin/, include/smepilot_rt/, lib/libsmepilot_rt.a,
# lib/cmake/SMEPilotRuntime/, lib/pkgconfig/, share/smepilot/models/.
#
# The runtime is a static library: its link dependencies (PCRE2, threads,
# the C++ standard library) are declared by the package config and the .pc.
include(CMakePackageConfigHelpers)

set(SMEPILOT_INSTALL_CMAKEDIR lib/cmake/SMEPilotRuntime)

set(_smepilot_tools smepilot-run smepilot-gguf smepilot-bench smepilot-synth)
if(SMEPILOT_BUILD_COMPILER)
  list(APPEND _smepilot_tools smepilot-opt smepilot-compile smepilot-build-model)
  if(SMEPILOT_BUILD_SERVER)
    list(APPEND _smepilot_tools smepilot-server)
  endif()
endif()
# The compiler's tools link Debian's libMLIR.so / libLLVM.so, which live
# outside the loader's default path: keep the directories they were linked
# from in the installed binaries' RUNPATH.
set_target_properties(${_smepilot_tools} PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS ${_smepilot_tools} RUNTIME DESTINATION bin)

install(TARGETS smepilot_rt EXPORT SMEPilotRuntimeTargets
        ARCHIVE DESTINATION lib)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/smepilot_rt DESTINATION include
        FILES_MATCHING PATTERN "*.h")
install(EXPORT SMEPilotRuntimeTargets NAMESPACE SMEPilotRuntime::
        DESTINATION ${SMEPILOT_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/SMEPilotRuntimeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/SMEPilotRuntimeConfig.cmake
  INSTALL_DESTINATION ${SMEPILOT_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/SMEPilotRuntimeConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/SMEPilotRuntimeConfig.cmake
              ${PROJECT_BINARY_DIR}/SMEPilotRuntimeConfigVersion.cmake
        DESTINATION ${SMEPILOT_INSTALL_CMAKEDIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/smepilot-runtime.pc.in
               ${PROJECT_BINARY_DIR}/smepilot-runtime.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/smepilot-runtime.pc DESTINATION lib/pkgconfig)

# The default model of smepilot-run (found relative to the executable:
# bin/../share/smepilot/models), with its license.
install(FILES ${SMEPILOT_MODELS_DIR}/stories260K.gguf ${SMEPILOT_MODELS_DIR}/LICENSE.llama2.c
        DESTINATION share/smepilot/models OPTIONAL)
# The build tree mirrors that layout, so that build/bin/smepilot-run finds it
# the same way (no path of this machine is compiled into the binary).
if(EXISTS ${SMEPILOT_MODELS_DIR}/stories260K.gguf)
  file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/share/smepilot/models)
  file(CREATE_LINK ${SMEPILOT_MODELS_DIR}/stories260K.gguf
       ${PROJECT_BINARY_DIR}/share/smepilot/models/stories260K.gguf SYMBOLIC COPY_ON_ERROR)
endif()
