# chatwire_jsmn_dir(<out-var>): a directory holding jsmn.h alone, for the
# builds whose SDK has no jsmn 1.1.0 (ESP-IDF, Zephyr). The header comes
# from CHATWIRE_JSMN_DIR (a CMake variable, else the environment variable),
# else from the compiler's search path, and must be jsmn 1.1.0's
# header-only jsmn.h (it defines JSMN_API): older jsmn headers, and ESP-IDF
# registry's espressif/jsmn, only declare the functions. It is copied into
# the build tree so that adding its directory (often /usr/include) cannot
# shadow the toolchain's own headers.
function(chatwire_jsmn_dir out_var)
  set(_dir "${CHATWIRE_JSMN_DIR}")
  if(NOT _dir)
    set(_dir "$ENV{CHATWIRE_JSMN_DIR}")
  endif()
  if(NOT _dir)
    find_path(_cw_jsmn_found jsmn.h)
    if(_cw_jsmn_found)
      set(_dir "${_cw_jsmn_found}")
    endif()
  endif()
  if(NOT _dir OR NOT EXISTS "${_dir}/jsmn.h")
    message(FATAL_ERROR "chatwire: jsmn.h not found: set CHATWIRE_JSMN_DIR "
            "(CMake or environment) to a directory holding jsmn 1.1.0's "
            "jsmn.h (Debian: libjsmn-dev, /usr/include)")
  endif()
  file(STRINGS "${_dir}/jsmn.h" _api REGEX "define JSMN_API")
  if(NOT _api)
    message(FATAL_ERROR "chatwire: ${_dir}/jsmn.h is not jsmn 1.1.0's "
            "header-only jsmn.h (no JSMN_API): it only declares the "
            "functions. Point CHATWIRE_JSMN_DIR at jsmn 1.1.0.")
  endif()
  set(_copy "${CMAKE_CURRENT_BINARY_DIR}/chatwire-jsmn")
  file(MAKE_DIRECTORY "${_copy}")
  configure_file("${_dir}/jsmn.h" "${_copy}/jsmn.h" COPYONLY)
  set(${out_var} "${_copy}" PARENT_SCOPE)
endfunction()
