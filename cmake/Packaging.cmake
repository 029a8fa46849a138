# The Debian package of the service (cpack -G DEB in a build directory; scripts/package.sh
# builds Release and runs it): /usr/bin/authsvc (stripped), /etc/authsvc/config.yaml (a
# conffile), the systemd unit and the maintainer scripts in packaging/. Depends is computed
# from the binary's shared libraries (dpkg-shlibdeps, package dpkg-dev), plus adduser for
# postinst. The verify library and headers are not in it: they are for building other
# services (cmake --install --component verify), not for running this one.
#
# The package installs only the component "service", which a plain `cmake --install`
# leaves out (EXCLUDE_FROM_ALL): installing the verify library never writes to /etc.

# The packaged config is config.yaml with the values a system service needs: the database
# under the unit's StateDirectory, listening on 127.0.0.1 (put a proxy in front, or change
# server.host). Secrets stay empty: they come from /etc/authsvc/env. Generated from
# config.yaml, so that every key keeps its one documented default.
set(PACKAGED_CONFIG ${CMAKE_BINARY_DIR}/packaging/config.yaml)
file(READ ${CMAKE_SOURCE_DIR}/config.yaml config_text)
set(config_edits
  "# authsvc configuration. Every key is optional: the value shown is the default."
  "# authsvc configuration as packaged (/etc/authsvc/config.yaml). Every key is optional:\n# the value shown is the default, except server.host and database.sqlite.path. Secrets\n# (AUTHSVC_JWT_SECRET, AUTHSVC_REFRESH_SECRET) go into /etc/authsvc/env (mode 0600),\n# which the systemd unit reads."
  "  host: 0.0.0.0          # address to listen on"
  "  host: 127.0.0.1        # address to listen on (0.0.0.0: every interface)"
  "    path: data/authsvc.db  # WAL mode"
  "    path: /var/lib/authsvc/authsvc.db  # in the unit's StateDirectory\n                           # WAL mode")
# Pairs of (line as in config.yaml, line as packaged); no ';' in them (a CMake list).
list(LENGTH config_edits n)
math(EXPR last "${n} - 1")
foreach(i RANGE 0 ${last} 2)
  math(EXPR j "${i} + 1")
  list(GET config_edits ${i} from)
  list(GET config_edits ${j} to)
  string(FIND "${config_text}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "cmake/Packaging.cmake: config.yaml no longer has the line \"${from}\"")
  endif()
  string(REPLACE "${from}" "${to}" config_text "${config_text}")
endforeach()
file(WRITE ${PACKAGED_CONFIG}.new "${config_text}")
file(COPY_FILE ${PACKAGED_CONFIG}.new ${PACKAGED_CONFIG} ONLY_IF_DIFFERENT)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/config.yaml)

install(TARGETS authsvc RUNTIME DESTINATION usr/bin COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PACKAGED_CONFIG} DESTINATION etc/authsvc COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/authsvc.service DESTINATION lib/systemd/system
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/API.md
        DESTINATION usr/share/doc/authsvc COMPONENT service EXCLUDE_FROM_ALL)

# cpack packages the binary as built: it builds nothing itself (CPack's install step would
# otherwise build every target first, the tests and bench programs included). Build the
# authsvc target first, as scripts/package.sh does.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME authsvc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "authsvc maintainers <maintainers@users.noreply.h-seed-d87da9c1.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "email/password authentication service: JWT and rotating refresh tokens")
set(CPACK_PACKAGE_DESCRIPTION
    "Users log in with email and password and get a short-lived JWT access token\nplus an opaque refresh token that rotates on every use. SQLite or PostgreSQL.\nRuns as the systemd service authsvc.service (user authsvc, /var/lib/authsvc).")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # authsvc_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)  # postinst; the libraries are added to it
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/conffiles ${CMAKE_SOURCE_DIR}/packaging/postinst
    ${CMAKE_SOURCE_DIR}/packaging/prerm ${CMAKE_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /)
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};authsvc;service;/")
include(CPack)
