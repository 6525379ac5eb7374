# gr_apply_build_flags(target): fuzzing instrumentation, sanitizers and
# -march=native when enabled.
function(gr_apply_build_flags target)
  if(GR_BUILD_FUZZERS)
    target_compile_options(${target} PUBLIC -fsanitize=fuzzer-no-link)
  endif()
  if(GR_ENABLE_SANITIZERS)
    # UBSan findings abort (a test or fuzzer fails) instead of only printing.
    target_compile_options(${target} PUBLIC -fsanitize=address,undefined -fno-sanitize-recover=all
                           -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
  if(GR_NATIVE_ARCH)
    target_compile_options(${target} PUBLIC -march=native)
  endif()
endfunction()
