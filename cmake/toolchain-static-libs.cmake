# Platform override for cmake/toolchain-aarch64-linux-gnu.cmake (through
# CMAKE_USER_MAKE_RULES_OVERRIDE): find_library() and pkg_check_modules()
# pick static archives only, as the aarch64 build links with -static.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
