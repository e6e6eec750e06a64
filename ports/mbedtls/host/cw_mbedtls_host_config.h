/*
 * cw_mbedtls_host_config.h - chatwire's changes to mbedTLS 3.6's default
 * configuration for hosts (Linux, macOS, ...), given to mbedTLS as
 * MBEDTLS_USER_CONFIG_FILE when chatwire builds it from source
 * (CW_MBEDTLS_SOURCE_DIR; the microcontroller build uses
 * ports/mbedtls/mcu/cw_mbedtls_config.h instead). Each one is measured by
 * scripts/bench.sh.
 */
#ifndef CW_MBEDTLS_HOST_CONFIG_H
#define CW_MBEDTLS_HOST_CONFIG_H

/* What chatwire needs, on in 3.6's defaults, checked here so that a change
 * of default cannot drop them unnoticed. */
#if !defined(MBEDTLS_SSL_PROTO_TLS1_3) || !defined(MBEDTLS_SSL_PROTO_TLS1_2) || \
    !defined(MBEDTLS_SSL_SESSION_TICKETS) || \
    !defined(MBEDTLS_SSL_SERVER_NAME_INDICATION) || !defined(MBEDTLS_SSL_ALPN)
#error "chatwire needs TLS 1.2 and 1.3, session tickets, SNI and ALPN"
#endif

/* Outgoing records of 2 KiB: a typical request is one record, and the
 * output buffer is 14 KiB smaller than the default 16 KiB (longer requests
 * go out as several records, 22 bytes more on the wire each). Incoming
 * records stay 16 KiB: public servers send full records. */
#undef MBEDTLS_SSL_OUT_CONTENT_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048

/* No copies of caller buffers inside PSA: the client shares no buffer with
 * an untrusted party, and the copy cost a 16 KB heap peak in the TLS 1.3
 * key share. */
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS

/* No debug traces: chatwire installs no debug callback, and with
 * MBEDTLS_DEBUG_C every record still formats its trace calls. */
#undef MBEDTLS_DEBUG_C

/* With AES-NI (the build found it on this CPU and compiles with -maes
 * -mpclmul), no portable AES and no per-block CPU check. The library then
 * needs AES-NI where it runs: CW_MBEDTLS_AESNI=OFF builds it without. */
#if defined(CW_MBEDTLS_AES_HARDWARE_ONLY)
#define MBEDTLS_AES_USE_HARDWARE_ONLY
#endif

#endif /* CW_MBEDTLS_HOST_CONFIG_H */
