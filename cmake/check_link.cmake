# loom_check_link(CC PACKAGE FLAGS...): fails the configure step, naming the
# Debian package to install, when CC cannot compile and link a small C
# program with FLAGS (for example clang-19 -fsanitize=address without
# libclang-rt-19-dev, whose missing libclang_rt.asan.a otherwise shows up only
# as a link error in the middle of the test suite).
function(loom_check_link cc package)
  set(dir ${CMAKE_BINARY_DIR}/check_link)
  file(MAKE_DIRECTORY ${dir})
  string(MAKE_C_IDENTIFIER "${cc} ${ARGN}" tag)
  set(src ${dir}/${tag}.c)
  file(WRITE ${src} "#include <stdio.h>\nint main(void) { puts(\"ok\"); return 0; }\n")
  execute_process(COMMAND ${cc} ${ARGN} ${src} -o ${dir}/${tag}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " flags "${ARGN}")
    message(FATAL_ERROR "${cc} cannot link a program with ${flags}; install the Debian "
            "package ${package} (scripts/install-deps.sh installs it). The compiler said:\n${out}")
  endif()
endfunction()
