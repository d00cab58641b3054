# A script CPack runs while it stages a package (CPACK_INSTALL_SCRIPTS;
# never cmake --install): what only a Debian package has, the changelog
# lintian asks every package for and lintian's overrides. A package built from the sources has no Debian history of
# its own, so it holds one entry: this version and the commit it is of.
if(NOT CPACK_GENERATOR STREQUAL "DEB")
  return()
endif()
set(commit unknown)
if(EXISTS "${CPACK_RUNFS_BINARY_DIR}/gen/runfs_commit.h")
  file(STRINGS "${CPACK_RUNFS_BINARY_DIR}/gen/runfs_commit.h" line REGEX "RUNFS_COMMIT")
  string(REGEX REPLACE ".*\"(.*)\".*" "\\1" commit "${line}")
endif()
# Honours SOURCE_DATE_EPOCH, for a build that must give the same bytes.
string(TIMESTAMP date "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(out "${CPACK_RUNFS_BINARY_DIR}/deb")
file(MAKE_DIRECTORY "${out}")
file(WRITE "${out}/changelog"
"${CPACK_PACKAGE_NAME} (${CPACK_PACKAGE_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}) unstable; urgency=medium

  * Built from the runfs sources at commit ${commit}.

 -- ${CPACK_DEBIAN_PACKAGE_MAINTAINER}  ${date}
")
execute_process(COMMAND gzip -9nf "${out}/changelog" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip ${out}/changelog failed")
endif()
file(INSTALL "${out}/changelog.gz" DESTINATION "${CPACK_PACKAGING_INSTALL_PREFIX}/share/doc/${CPACK_PACKAGE_NAME}"
     RENAME changelog.Debian.gz FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# What lintian need not say of a package built this way.
file(INSTALL "${CPACK_RUNFS_SOURCE_DIR}/dist/debian/lintian-overrides"
     DESTINATION "${CPACK_PACKAGING_INSTALL_PREFIX}/share/lintian/overrides" RENAME runfs
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
