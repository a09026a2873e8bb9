# The standalone agent as operators install it: `cpack -G DEB` in the build directory writes
#   trimtab_<version>_<arch>.deb      the binary, trimtab@.service, the man page, bash completion,
#                                     /etc/trimtab/tuning.yaml (a conffile), the trimtab user
#   trimtab-dev_<version>_<arch>.deb  the static libraries, headers and CMake package, for hosts
#                                     that embed the agent (find_package(trimtab))
# Two packages because they serve different people: a server running the agent needs none of
# the headers, and a host building against the libraries needs no daemon, user or unit.
# tests/package/package_test.py builds, inspects and installs them (ctest -R package).

# The daemon's GOT read-only after start-up, as Debian builds its own (lintian's hardening checks).
target_link_options(trimtab PRIVATE LINKER:-z,relro LINKER:-z,now)

# trimtab(1), from the binary's --help (cmake/trimtab_manpage.cmake), compressed as Debian wants.
set(trimtab_manpage ${CMAKE_CURRENT_BINARY_DIR}/trimtab.1)
add_custom_command(OUTPUT ${trimtab_manpage}.gz
  # (A sanitized build's binary prints the same help; its leak check is no business of the page's.)
  COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
          ${CMAKE_COMMAND} -DTRIMTAB=$<TARGET_FILE:trimtab> -DVERSION=${PROJECT_VERSION} -DOUTPUT=${trimtab_manpage}
          -P ${PROJECT_SOURCE_DIR}/cmake/trimtab_manpage.cmake
  COMMAND gzip -9nf ${trimtab_manpage}
  DEPENDS trimtab ${PROJECT_SOURCE_DIR}/cmake/trimtab_manpage.cmake
  COMMENT "Generating trimtab(1) from trimtab --help")
add_custom_target(trimtab_manpage ALL DEPENDS ${trimtab_manpage}.gz)

set(CPACK_PACKAGE_NAME trimtab)
set(CPACK_PACKAGE_VENDOR "trimtab")
set(CPACK_PACKAGE_CONTACT "trimtab maintainers <maintainers@users.noreply.b-seed-2139f467.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(TRIMTAB_DEB_VERSION ${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE})

configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/changelog.in ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian @ONLY)
add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian.gz
  COMMAND gzip -9nkf ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian
  DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian)
add_custom_target(trimtab_changelog ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian.gz)

# Relative destinations land under the package's /usr.
install(FILES ${trimtab_manpage}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
install(FILES packaging/trimtab.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME trimtab COMPONENT runtime)
foreach(component runtime dev)
  if(component STREQUAL "runtime")
    set(doc_dir ${CMAKE_INSTALL_DATADIR}/doc/trimtab)
  else()
    set(doc_dir ${CMAKE_INSTALL_DATADIR}/doc/trimtab-dev)
  endif()
  install(FILES packaging/debian/copyright ${CMAKE_CURRENT_BINARY_DIR}/changelog.Debian.gz
          DESTINATION ${doc_dir} COMPONENT ${component})
endforeach()
# The system paths are absolute, so only the packages get them: `cmake --install` into a prefix
# (the consumer test, a developer's ~/.local) installs no unit and writes nothing under /etc.
install(FILES config/examples/tuning.yaml DESTINATION /etc/trimtab COMPONENT runtime EXCLUDE_FROM_ALL)
install(FILES packaging/trimtab@.service DESTINATION /lib/systemd/system COMPONENT runtime EXCLUDE_FROM_ALL)

# The -dev libraries without their debug information when packaging strips (CPACK_STRIP_FILES):
# CPack's own strip is for executables, and would take a static library's symbol table too.
install(CODE [[
  if(CMAKE_INSTALL_DO_STRIP)
    file(GLOB libraries "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib*/libtrimtab_*.a")
    foreach(library ${libraries})
      # As dh_strip does for a static library.
      execute_process(COMMAND strip --strip-debug --remove-section=.comment --remove-section=.note --enable-deterministic-archives
                              ${library} COMMAND_ERROR_IS_FATAL ANY)
    endforeach()
  endif()
]] COMPONENT dev)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/trimtab/trimtab")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME trimtab)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION admin)
# The synopsis is the project's DESCRIPTION; CPack indents these lines and turns empty ones into " .".
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "trimtab scrapes a service's metrics, proposes new values for its knobs (pool
sizes, batch sizes, timeouts, cache limits), applies them through adapters
that hot-reload the service (HTTP, files, commands, Redis, PgBouncer,
PostgreSQL), scores each observation window and keeps what is better, inside
safety limits written in YAML.

This package holds the standalone agent: the trimtab command, the systemd
unit trimtab@.service (one agent per /etc/trimtab/NAME.yaml) and the trimtab
system user.")
# dpkg-shlibdeps computes the libraries' packages; adduser is for the postinst. libpq5 is loaded
# with dlopen (adapters/src/libpq_library.hpp), which dpkg-shlibdeps cannot see: listed by hand.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "adduser, libpq5")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm
  ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME trimtab-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION "Development files: trimtab's static libraries, headers and CMake
package, for programs that embed the tuning agent in their own io_context:
find_package(trimtab CONFIG REQUIRED) and link trimtab::trimtab.")
# Static libraries leave nothing for dpkg-shlibdeps to read: what the CMake package's
# find_dependency() calls need (cmake/trimtabConfig.cmake.in) is listed by hand, and libpq5, which
# the adapters load with dlopen at run time.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libboost1.81-dev, libboost-json1.81-dev, libyaml-cpp-dev, libeigen3-dev, libnlopt-dev, libpq5")

include(CPack)
