# Fails when a file of the library (src/, include/) includes CLI11: the library takes parameters,
# not command lines, and only the front ends of tools/ parse them (as mtmd refuses to link
# llama.cpp's common code). Used by src/CMakeLists.txt at configure time, and as a script:
#   cmake -DDERMLENS_CHECK_ROOT=<source tree> -P cmake/check-no-cli11.cmake
file(GLOB_RECURSE dermlens_library_files
     ${DERMLENS_CHECK_ROOT}/src/*.h ${DERMLENS_CHECK_ROOT}/src/*.cpp ${DERMLENS_CHECK_ROOT}/include/*.h)
foreach(dermlens_file IN LISTS dermlens_library_files)
  file(STRINGS ${dermlens_file} dermlens_cli11_includes REGEX "#[ \t]*include[ \t]*[<\"]CLI/")
  if(dermlens_cli11_includes)
    message(FATAL_ERROR "${dermlens_file} includes CLI11: the library takes parameters, not command lines "
                        "(only tools/ may parse them)")
  endif()
endforeach()
