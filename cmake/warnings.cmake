# dermlens_target_defaults(TARGET): warnings (as errors unless DERMLENS_WERROR=OFF)
# and, with DERMLENS_SANITIZE, ASan + UBSan on dermlens's own code (DERMLENS_TSAN: ThreadSanitizer). llama.cpp is
# left uninstrumented so its objects stay identical (and ccache-shared) across builds.
function(dermlens_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(DERMLENS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(DERMLENS_SANITIZE)
    # GCC 12 reports false -Wmaybe-uninitialized inside libstdc++ (std::regex, std::function)
    # when instrumented; the normal build keeps the warning.
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=undefined
                                             -fno-omit-frame-pointer -g -Wno-maybe-uninitialized)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(DERMLENS_TSAN)
    target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer -g -Wno-maybe-uninitialized)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
  if(DERMLENS_FUZZ)
    # The clang build of the libFuzzer harnesses (tests/fuzz, scripts/fuzz): coverage for the
    # fuzzer's guidance, ASan + UBSan to turn memory errors and undefined behaviour into findings.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                                             -fno-omit-frame-pointer -g)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
