# llama.cpp (ggml + libllama + libmtmd) as a static CMake subproject.
# LLAMA_CPP_DIR points at the source: scripts/setup fills it with the pinned
# checkout from node-llama-cpp's git bundle, or a user's own checkout.
set(LLAMA_CPP_DIR "$ENV{LLAMA_CPP_DIR}" CACHE PATH "llama.cpp source checkout")
if(NOT EXISTS "${LLAMA_CPP_DIR}/include/llama.h" OR NOT EXISTS "${LLAMA_CPP_DIR}/tools/mtmd/mtmd.h")
  message(FATAL_ERROR "LLAMA_CPP_DIR='${LLAMA_CPP_DIR}' is not a llama.cpp checkout "
                      "(no include/llama.h or tools/mtmd/mtmd.h). Run ./scripts/setup or set LLAMA_CPP_DIR.")
endif()

set(BUILD_SHARED_LIBS    OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_COMMON   ON  CACHE BOOL "" FORCE) # llama-mtmd-cli, the reference for parity tests
set(LLAMA_BUILD_TOOLS    ON  CACHE BOOL "" FORCE) # targets are EXCLUDE_FROM_ALL: built only when a test needs them
set(LLAMA_BUILD_MTMD     ON  CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TESTS    OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_EXAMPLES OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_SERVER   ON  CACHE BOOL "" FORCE) # llama-server, what bench/serve/ measures dermlens serve against
set(LLAMA_BUILD_APP      OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_UI       OFF CACHE BOOL "" FORCE) # llama-server without its web UI: no npm build,
set(LLAMA_USE_PREBUILT_UI OFF CACHE BOOL "" FORCE) # no download (the API is what is measured)
set(LLAMA_OPENSSL        OFF CACHE BOOL "" FORCE)
set(LLAMA_CURL           OFF CACHE BOOL "" FORCE)
set(MTMD_VIDEO           OFF CACHE BOOL "" FORCE)
set(GGML_CUDA ${DERMLENS_CUDA} CACHE BOOL "" FORCE)

add_subdirectory(${LLAMA_CPP_DIR} ${CMAKE_BINARY_DIR}/llama.cpp EXCLUDE_FROM_ALL SYSTEM)

execute_process(COMMAND git -C ${LLAMA_CPP_DIR} rev-parse --short=7 HEAD
                OUTPUT_VARIABLE DERMLENS_LLAMA_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT DERMLENS_LLAMA_COMMIT)
  set(DERMLENS_LLAMA_COMMIT "unknown")
endif()
message(STATUS "dermlens: llama.cpp ${DERMLENS_LLAMA_COMMIT} from ${LLAMA_CPP_DIR}")
