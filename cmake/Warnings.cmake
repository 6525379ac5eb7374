# gr_set_warnings(target): the project's warning set, per target (never global flags).
function(gr_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wno-missing-field-initializers)  # designated initializers may omit defaulted members
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # The fuzzing build: GCC-only names in per-file options, and simd loops
    # the sanitizer instrumentation keeps from vectorising.
    target_compile_options(${target} PRIVATE -Wno-unknown-warning-option -Wno-pass-failed
      -Wno-c99-extensions)  # clang's own _cvtss_sh macro
  endif()
  if(GR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# gr_library(name sources...): one library per folder, alias gr::name, warnings,
# sanitizers and CPU tuning applied.
function(gr_library name)
  add_library(gr_${name} ${ARGN})
  add_library(gr::${name} ALIAS gr_${name})
  # Installed as graphrec::<name> (cmake/Install.cmake), headers under
  # include/graphrec, so "core/error.h" resolves the same in both trees.
  set_target_properties(gr_${name} PROPERTIES EXPORT_NAME ${name})
  target_include_directories(gr_${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                               $<INSTALL_INTERFACE:include/graphrec>)
  gr_set_warnings(gr_${name})
  gr_apply_build_flags(gr_${name})
endfunction()
