# The CUDA build (-DDERMLENS_CUDA=ON) configures and nvcc compiles ggml's CUDA code, wherever a
# CUDA toolkit is installed; skipped (ctest SKIP) where none is. A whole CUDA build of llama.cpp
# takes hours on two cores, so this configures dermlens with CUDA in its own build folder
# (kept between runs: later runs re-configure incrementally) and compiles one small CUDA
# source of ggml-cuda (arange.cu: ggml's common CUDA headers, one kernel) for one architecture;
# with ccache as nvcc's launcher a rerun compiles nothing.
#   cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DLLAMA_CPP_DIR=... -P cuda_build.cmake
find_program(NVCC nvcc PATHS /usr/local/cuda/bin)
if(NOT NVCC)
  message("no CUDA toolkit (nvcc) found: CUDA build check skipped")
  return()
endif()
find_program(CCACHE ccache)
set(launcher "")
if(CCACHE)
  set(launcher "-DCMAKE_CUDA_COMPILER_LAUNCHER=${CCACHE}")
endif()
set(build "${BINARY_DIR}/cuda-check")
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${build} -G Ninja -DDERMLENS_CUDA=ON -DCMAKE_CUDA_COMPILER=${NVCC}
          -DCMAKE_CUDA_ARCHITECTURES=90 -DLLAMA_CPP_DIR=${LLAMA_CPP_DIR} ${launcher}
  RESULT_VARIABLE configured OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT configured EQUAL 0)
  message(FATAL_ERROR "configuring with -DDERMLENS_CUDA=ON failed:\n${out}")
endif()
set(object "llama.cpp/ggml/src/ggml-cuda/CMakeFiles/ggml-cuda.dir/arange.cu.o")
execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} --target ${object}
                RESULT_VARIABLE built OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT built EQUAL 0)
  message(FATAL_ERROR "nvcc could not compile ggml-cuda's ${object}:\n${out}")
endif()
message("CUDA build configures and compiles (${NVCC})")
