# chatwire_install.cmake - `cmake --install`: the libraries, the public
# headers (in include/chatwire/), the CMake package chatwireConfig.cmake
# with its version file and the targets chatwire::chatwire, ::posix,
# ::mbedtls (and ::lwip where built), and chatwire.pc for pkg-config.
include(CMakePackageConfigHelpers)

set(CW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/chatwire)
set(_cw_headers ${CHATWIRE_PUBLIC_HEADERS})
if(TARGET chatwire_posix)
  list(APPEND _cw_headers ${CHATWIRE_POSIX_INCLUDE_DIRS}/cw_posix.h)
endif()
if(TARGET chatwire_lwip)
  list(APPEND _cw_headers ${CHATWIRE_LWIP_INCLUDE_DIRS}/cw_lwip.h)
endif()
if(TARGET chatwire_mbedtls)
  list(APPEND _cw_headers ${CHATWIRE_MBEDTLS_INCLUDE_DIRS}/cw_tls.h
                          ${PROJECT_BINARY_DIR}/generated/cw_tls_build.h)
  if(TARGET cw_mbedtls_headers)
    list(APPEND CW_EXPORTED cw_mbedtls_headers)
  endif()
endif()
install(FILES ${_cw_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/chatwire)
if(CW_CONFIG_FILE)
  # the options the library was built with: a consumer must see the same
  install(FILES ${CW_CONFIG_FILE} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/chatwire)
endif()
install(TARGETS ${CW_EXPORTED} EXPORT chatwireTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/chatwire)
install(EXPORT chatwireTargets NAMESPACE chatwire:: DESTINATION ${CW_CMAKE_DIR})
if(TARGET chatwire_cli)
  install(TARGETS chatwire_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(CW_PACKAGE_NEEDS_MBEDTLS_CONFIG OFF)
if(TARGET chatwire_mbedtls AND CW_MBEDTLS_FROM STREQUAL "source")
  set(CW_PACKAGE_NEEDS_MBEDTLS_CONFIG ON) # installed beside chatwire
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/chatwireConfig.cmake.in
  ${PROJECT_BINARY_DIR}/chatwireConfig.cmake INSTALL_DESTINATION ${CW_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/chatwireConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/chatwireConfig.cmake
              ${PROJECT_BINARY_DIR}/chatwireConfigVersion.cmake
        DESTINATION ${CW_CMAKE_DIR})

# pkg-config: what a POSIX program with TLS needs; --static adds mbedTLS
set(CW_PC_LIBS "-lchatwire_posix -lchatwire")
set(CW_PC_PRIVATE "")
set(CW_PC_CFLAGS "-I\${includedir}/chatwire")
if(TARGET chatwire_mbedtls)
  set(CW_PC_LIBS "-lchatwire_mbedtls ${CW_PC_LIBS}")
  # (the library's mbedTLS options come with cw_tls.h: cw_tls_build.h)
  if(CW_MBEDTLS_FROM STREQUAL "source")
    # mbedTLS is installed beside chatwire: its headers are in includedir
    set(CW_PC_CFLAGS "${CW_PC_CFLAGS} -I\${includedir}")
    set(CW_PC_PRIVATE "-lmbedtls -lmbedx509 -lmbedcrypto")
  else()
    get_filename_component(_cw_mbedtls_libdir ${MBEDTLS_mbedtls_LIBRARY} DIRECTORY)
    set(CW_PC_PRIVATE "-L${_cw_mbedtls_libdir} -lmbedtls -lmbedx509 -lmbedcrypto")
    if(NOT CW_MBEDTLS_INCLUDE_DIR STREQUAL "/usr/include")
      set(CW_PC_CFLAGS "${CW_PC_CFLAGS} -I${CW_MBEDTLS_INCLUDE_DIR}")
    endif()
  endif()
  # a static link (pkg-config --static) needs mbedTLS; a shared
  # libchatwire_mbedtls.so has it inside
  set(CW_PC_LIBS_PRIVATE "${CW_PC_PRIVATE}")
endif()
if(CW_CONFIG_FILE)
  get_filename_component(_cw_cfg_name ${CW_CONFIG_FILE} NAME)
  set(CW_PC_CFLAGS "${CW_PC_CFLAGS} -DCW_CONFIG_FILE=<${_cw_cfg_name}>")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/chatwire.pc.in
               ${PROJECT_BINARY_DIR}/chatwire.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/chatwire.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
