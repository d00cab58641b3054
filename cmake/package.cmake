# The Debian package: `cpack -G DEB` in a build without sanitizers
# (build-plain/, which scripts/build-tests makes; tests/package/ builds,
# installs and removes it). Its dependencies are computed from the
# binary's libraries (dpkg-shlibdeps), plus fuse3 for fusermount3 and
# mount.fuse3. Included by CMakeLists.txt after cmake/install.cmake.
set(CPACK_PACKAGE_NAME runfs)
set(CPACK_PACKAGE_VERSION ${runfs_version})
set(CPACK_PACKAGE_VENDOR "runfs developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "workflow runner whose interface is a filesystem")
set(CPACK_PACKAGE_DESCRIPTION
  "runfs runs workflows (graphs of commands written in JSON) and shows
every run as a directory of a FUSE filesystem, which ls, cat, jq, grep,
tail -f and shell scripts read: states, logs, outputs and results. Runs
execute inside the mount daemon, in a local runtime daemon that outlives
mounts, or on a Slurm cluster through slurmrestd.")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "runfs developers <dev@runfs.invalid>" CACHE STRING
    "the Maintainer of the Debian package")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# A Debian revision: the package is not the sources themselves (lintian
# asks a native one for changelog.gz, a packaged one for changelog.Debian.gz).
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS fuse3)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_RUNFS_BINARY_DIR ${CMAKE_BINARY_DIR})
set(CPACK_RUNFS_SOURCE_DIR ${CMAKE_SOURCE_DIR})
set(CPACK_INSTALL_SCRIPTS ${CMAKE_SOURCE_DIR}/cmake/deb-docs.cmake)
include(CPack)
