# Runs at install time (cmake --install, cpack), not at configure time:
# the systemd units name the installed runfs, and the prefix is known
# for sure only now (cmake --install --prefix DIR may change it).
# RUNFS_SOURCE_DIR, RUNFS_BINARY_DIR, RUNFS_BINDIR and RUNFS_SYSTEMD_DIR
# are set by the install(CODE) before it (cmake/install.cmake).
if(IS_ABSOLUTE "${RUNFS_BINDIR}")
  set(RUNFS_BIN "${RUNFS_BINDIR}/runfs")
else()
  set(RUNFS_BIN "${CMAKE_INSTALL_PREFIX}/${RUNFS_BINDIR}/runfs")
endif()
set(dir "${RUNFS_SYSTEMD_DIR}")
if(NOT dir AND CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  # Debian 12 wants a package's units in /lib (lintian's
  # systemd-service-file-outside-lib); on a merged /usr that is /usr/lib.
  set(dir /lib/systemd)
elseif(NOT dir)
  # systemd looks there too (/usr/local/lib/systemd/{system,user}).
  set(dir "${CMAKE_INSTALL_PREFIX}/lib/systemd")
endif()
set(out "${RUNFS_BINARY_DIR}/units")
foreach(kind system user)
  if(kind STREQUAL "system")
    set(WANTED_BY multi-user.target)
    set(units runfs-local@.service)
  else()
    set(WANTED_BY default.target)
    set(units runfs-local@.service runfs@.service)
  endif()
  foreach(unit ${units})
    configure_file("${RUNFS_SOURCE_DIR}/dist/systemd/${unit}.in" "${out}/${kind}/${unit}" @ONLY)
    file(INSTALL "${out}/${kind}/${unit}" DESTINATION "${dir}/${kind}"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endforeach()
endforeach()
