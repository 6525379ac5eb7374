# cmake --install: the graphrec binary, the offline libraries (everything
# below pipeline/, which needs no gRPC) with their headers, and a package
# config so that another project's find_package(graphrec) gives
# graphrec::core, graphrec::graph, ... graphrec::eval (examples/cmake_consumer).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(GR_INSTALLED_LIBRARIES core graph synth stream walk embed recall ranking version eval)
set(targets)
foreach(name IN LISTS GR_INSTALLED_LIBRARIES)
  list(APPEND targets gr_${name})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${name}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/graphrec/${name}
          FILES_MATCHING PATTERN "*.h")
endforeach()
install(TARGETS ${targets} EXPORT graphrecTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
set(GR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/graphrec)
install(EXPORT graphrecTargets NAMESPACE graphrec:: DESTINATION ${GR_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/graphrecConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/graphrecConfig.cmake INSTALL_DESTINATION ${GR_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/graphrecConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/graphrecConfig.cmake ${PROJECT_BINARY_DIR}/graphrecConfigVersion.cmake
        DESTINATION ${GR_CMAKE_DIR})
