include(CMakePackageConfigHelpers)

install(TARGETS trimtab_core trimtab_config trimtab_adapters trimtab_agent trimtab_all
  EXPORT trimtabTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT dev)
install(TARGETS trimtab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

set(trimtab_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/trimtab)
install(EXPORT trimtabTargets NAMESPACE trimtab:: DESTINATION ${trimtab_cmake_dir} COMPONENT dev)
configure_package_config_file(cmake/trimtabConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/trimtabConfig.cmake
  INSTALL_DESTINATION ${trimtab_cmake_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/trimtabConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/trimtabConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/trimtabConfigVersion.cmake
        DESTINATION ${trimtab_cmake_dir} COMPONENT dev)
