# Installs libloom: include/loom.h, libloom.a and libloom.so, a pkg-config
# file (loom.pc) and a CMake package config (loomConfig.cmake, targets
# loom::loom and loom::loom_static). Included by the top CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(FILES ${CMAKE_SOURCE_DIR}/include/loom.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS loom_static loom_shared
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# what a static link needs besides libloom.a
set(LOOM_PRIVATE_LIBS "-lcjson -lprotobuf-c -lzip -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -L${LLVM_LIBRARY_DIR} -lLLVM-19 -lopenblas -lpthread -lm -ldl")
# relocatable: the prefix is found from the .pc file's own folder
file(RELATIVE_PATH LOOM_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(${CMAKE_SOURCE_DIR}/cmake/loom.pc.in ${CMAKE_BINARY_DIR}/loom.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/loom.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(LOOM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/loom)
file(RELATIVE_PATH LOOM_CONFIG_TO_PREFIX /${LOOM_CMAKE_DIR} /)
configure_file(${CMAKE_SOURCE_DIR}/cmake/loomConfig.cmake.in
               ${CMAKE_BINARY_DIR}/loomConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/loomConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/loomConfig.cmake ${CMAKE_BINARY_DIR}/loomConfigVersion.cmake
        DESTINATION ${LOOM_CMAKE_DIR})
