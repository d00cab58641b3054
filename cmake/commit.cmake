# Writes OUT, a header defining RUNFS_COMMIT: COMMIT when given (a
# packager's -DRUNFS_COMMIT=...), else the short hash of SRC's git HEAD
# with "-dirty" when tracked files differ from it, else "unknown" (a
# tarball, or no git). The build runs it every time, so the hash follows
# new commits without a new cmake; it rewrites OUT only when the text
# changes, so that only the file including it is compiled again.
if(NOT COMMIT)
  set(COMMIT unknown)
  find_program(GIT git)
  if(GIT)
    # Only SRC's own repository: a tarball unpacked inside some other
    # git checkout must not take that checkout's hash.
    execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --show-toplevel
                    OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE rc ERROR_QUIET)
    if(rc EQUAL 0)
      get_filename_component(top "${top}" REALPATH)
      get_filename_component(src "${SRC}" REALPATH)
    endif()
    if(rc EQUAL 0 AND top STREQUAL src)
      execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --short=7 HEAD
                      OUTPUT_VARIABLE hash OUTPUT_STRIP_TRAILING_WHITESPACE
                      RESULT_VARIABLE rc ERROR_QUIET)
      if(rc EQUAL 0 AND hash)
        set(COMMIT ${hash})
        execute_process(COMMAND ${GIT} -C ${SRC} status --porcelain --untracked-files=no
                        OUTPUT_VARIABLE changes RESULT_VARIABLE rc ERROR_QUIET)
        if(rc EQUAL 0 AND changes)
          set(COMMIT ${hash}-dirty)
        endif()
      endif()
    endif()
  endif()
endif()
set(text "#define RUNFS_COMMIT \"${COMMIT}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
