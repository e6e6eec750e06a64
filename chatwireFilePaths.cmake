# chatwireFilePaths.cmake - the one list of chatwire's source files and
# include directories, for every build: chatwire's own CMakeLists.txt (and
# through it ESP-IDF, Zephyr and the pico-sdk), a project that includes this
# file to compile chatwire its own way, and, through chatwire.mk (the same
# lists for make, checked against this file by tests/packaging), the
# Cortex-M firmware builds. tests/manifests/check.py checks that they agree.
#
#   include(path/to/chatwire/chatwireFilePaths.cmake)
#   add_library(chatwire ${CHATWIRE_CORE_SOURCES} ${CHATWIRE_JSMN_SOURCES})
#   target_include_directories(chatwire PUBLIC ${CHATWIRE_CORE_INCLUDE_DIRS}
#                              PRIVATE ${CHATWIRE_CORE_PRIVATE_INCLUDE_DIRS})
#
# The core needs jsmn.h on the include path (Debian's libjsmn-dev, or any
# copy of jsmn 1.1.0); the ports need their platform (POSIX sockets, lwIP,
# mbedTLS). Nothing else.

set(CHATWIRE_DIR ${CMAKE_CURRENT_LIST_DIR})

# The I/O-free core (src/core: the request writer, the HTTP, SSE and JSON
# parsers, the retry rules, conversations, status texts, URLs), and what
# drives a transport with it (src/client: the client and the HTTP CONNECT
# proxy). Every build needs both.
set(CHATWIRE_CORE_SOURCES
    ${CHATWIRE_DIR}/src/core/cw_history.c
    ${CHATWIRE_DIR}/src/core/cw_http.c
    ${CHATWIRE_DIR}/src/core/cw_json.c
    ${CHATWIRE_DIR}/src/core/cw_request.c
    ${CHATWIRE_DIR}/src/core/cw_retry.c
    ${CHATWIRE_DIR}/src/core/cw_sse.c
    ${CHATWIRE_DIR}/src/core/cw_status.c
    ${CHATWIRE_DIR}/src/core/cw_url.c
    ${CHATWIRE_DIR}/src/client/cw_client.c
    ${CHATWIRE_DIR}/src/client/cw_proxy.c)
# jsmn, compiled once with chatwire's options (its symbols renamed).
set(CHATWIRE_JSMN_SOURCES ${CHATWIRE_DIR}/src/core/cw_jsmn.c)
set(CHATWIRE_CORE_INCLUDE_DIRS ${CHATWIRE_DIR}/include)
set(CHATWIRE_CORE_PRIVATE_INCLUDE_DIRS ${CHATWIRE_DIR}/src)

# Ports: POSIX sockets, lwIP sockets, TLS on mbedTLS, and mbedTLS's
# microcontroller glue (static arena, entropy and time hooks).
set(CHATWIRE_POSIX_SOURCES ${CHATWIRE_DIR}/ports/posix/cw_posix.c)
set(CHATWIRE_POSIX_INCLUDE_DIRS ${CHATWIRE_DIR}/ports/posix)
set(CHATWIRE_LWIP_SOURCES ${CHATWIRE_DIR}/ports/lwip/cw_lwip.c)
set(CHATWIRE_LWIP_INCLUDE_DIRS ${CHATWIRE_DIR}/ports/lwip)
set(CHATWIRE_MBEDTLS_SOURCES ${CHATWIRE_DIR}/ports/mbedtls/cw_tls.c)
set(CHATWIRE_MBEDTLS_INCLUDE_DIRS ${CHATWIRE_DIR}/ports/mbedtls)
set(CHATWIRE_MBEDTLS_MCU_SOURCES ${CHATWIRE_DIR}/ports/mbedtls/mcu/cw_tls_mcu.c)
set(CHATWIRE_MBEDTLS_MCU_INCLUDE_DIRS ${CHATWIRE_DIR}/ports/mbedtls/mcu)

# The public headers, installed by `cmake --install`.
set(CHATWIRE_PUBLIC_HEADERS
    ${CHATWIRE_DIR}/include/chatwire.h
    ${CHATWIRE_DIR}/include/chatwire_config.h
    ${CHATWIRE_DIR}/include/chatwire_proxy.h
    ${CHATWIRE_DIR}/include/chatwire_transport.h)
