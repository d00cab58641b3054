# Installing runfs: cmake --install BUILD [--prefix DIR], with DESTDIR as
# usual, installs the program, its manual, the documents and examples,
# the systemd units and the bash completion. Included by CMakeLists.txt.
include(GNUInstallDirs)

set(RUNFS_SYSTEMD_DIR "" CACHE PATH
    "where the systemd units go (DIR/system, DIR/user; default /lib/systemd for the prefix /usr, else PREFIX/lib/systemd)")

install(TARGETS runfs RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The manual, compressed as Debian's policy asks: -n leaves the name and
# time out, so that the same page gives the same bytes.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/runfs.1.gz
  COMMAND sh -c "gzip -9n <\"$0\" >\"$1\"" ${CMAKE_SOURCE_DIR}/docs/runfs.1
          ${CMAKE_BINARY_DIR}/runfs.1.gz
  DEPENDS ${CMAKE_SOURCE_DIR}/docs/runfs.1 VERBATIM)
add_custom_target(runfs_manual ALL DEPENDS ${CMAKE_BINARY_DIR}/runfs.1.gz)
install(FILES ${CMAKE_BINARY_DIR}/runfs.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES README.md docs/TREE.md dist/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB RUNFS_EXAMPLES CONFIGURE_DEPENDS examples/*.json)
install(FILES examples/README.md ${RUNFS_EXAMPLES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# bash-completion loads it the first time runfs is completed.
install(FILES dist/bash-completion/runfs
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

install(CODE "
  set(RUNFS_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
  set(RUNFS_BINARY_DIR \"${CMAKE_BINARY_DIR}\")
  set(RUNFS_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(RUNFS_SYSTEMD_DIR \"${RUNFS_SYSTEMD_DIR}\")")
install(SCRIPT cmake/install-units.cmake)
