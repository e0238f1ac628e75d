# cmake -DROOT=SOURCE_DIR -DCMAKE_BINARY_DIR=DIR -P check_link_missing.cmake:
# the configure-time link check (cmake/check_link.cmake) as the sanitizer
# build uses it, first with flags that link, then with a library that is
# not installed: the second must stop, naming the package to install.
include(${ROOT}/cmake/check_link.cmake)
loom_check_link(cc "gcc" -lm)
message(STATUS "cc links with -lm")
loom_check_link(cc libloom-missing-dev -lloom_missing_library)
