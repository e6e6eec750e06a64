/** @file
 * cw_tls.h - a chatwire transport that speaks TLS over another transport,
 * using mbedTLS (2.28 or 3.6).
 *
 * Secure by default, with no way to turn that off: the server certificate
 * is always verified (MBEDTLS_SSL_VERIFY_REQUIRED) against the trust anchors
 * given, and the host name is always sent as SNI and checked against the
 * certificate. TLS 1.2 and, where the mbedTLS build has it, TLS 1.3.
 *
 * The whole TLS state lives in cw_tls_t, which the caller places. mbedTLS
 * itself allocates its record buffers and handshake state with calloc: on a
 * microcontroller, point that at a static arena with
 * MBEDTLS_MEMORY_BUFFER_ALLOC_C (see ports/mbedtls/).
 */
#ifndef CW_TLS_H
#define CW_TLS_H

#include "chatwire.h" /* cw_status_t, and the transport contract */

#include <stdbool.h>

/** cw_tls_t embeds mbedTLS's structures: a program must be compiled against
 * the mbedTLS headers and options the library was built with, or it would
 * lay them out differently. A CMake build of chatwire records them in
 * cw_tls_build.h (installed beside this header), which also selects the
 * library's mbedTLS options for whoever includes this file; other headers
 * or options are then a build error, not a wrong read at run time. */
#if defined(__has_include)
#if __has_include("cw_tls_build.h")
#include "cw_tls_build.h"
#define CW_TLS_SIZE_CHECKED 1
#endif
#endif

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#if defined(CW_TLS_SIZE_CHECKED) && \
    CW_TLS_BUILT_WITH_MBEDTLS != MBEDTLS_VERSION_NUMBER
#error "cw_tls.h: these are not the mbedTLS headers libchatwire_mbedtls was built with (cw_tls_build.h names them): use the same mbedTLS"
#endif
#if defined(CW_TLS_SIZE_CHECKED)
/** the same options as the library's: mbedTLS's structures the same size
 * (an mbedTLS header included before this one, without them, shows here) */
typedef char cw_tls_mbedtls_layout_check
    [(sizeof(mbedtls_ssl_context) == CW_TLS_BUILT_SSL_CONTEXT_SIZE &&
      sizeof(mbedtls_ssl_config) == CW_TLS_BUILT_SSL_CONFIG_SIZE) ? 1 : -1];
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CW_TLS_DEFAULT_CA_FILE
#define CW_TLS_DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#endif

/** Room kept in cw_tls_t for the saved session (serialized with
 * mbedtls_ssl_session_save): a TLS 1.3 ticket or a TLS 1.2 session, with
 * the server's certificate when the build keeps it. A session that does not
 * fit is not saved (the next connection does a full handshake). */
#ifndef CW_TLS_SESSION_MAX
#define CW_TLS_SESSION_MAX 2048u
#endif

/** The longest a session without a ticket lifetime from the server (a TLS
 * 1.2 session ID) is kept for import, in seconds. Default 86400, the upper
 * limit RFC 5246 suggests for session caches. */
#ifndef CW_TLS_SESSION_MAX_AGE_S
#define CW_TLS_SESSION_MAX_AGE_S 86400u
#endif

/** Longest host name kept (SNI and the saved session's owner), and the size
 * of the error sentence. A small device talking to one known host can
 * lower both. */
#ifndef CW_TLS_HOST_MAX
#define CW_TLS_HOST_MAX 256u
#endif
#ifndef CW_TLS_ERROR_MAX
/** Size of the error sentence kept in cw_tls_t: see CW_TLS_HOST_MAX. */
#define CW_TLS_ERROR_MAX 256u
#endif

/** TLS versions, for cw_tls_config_t.min_version and max_version. */
enum {
    CW_TLS_1_2 = 2, /**< TLS 1.2 */
    CW_TLS_1_3 = 3  /**< TLS 1.3 (mbedTLS 3.x built with it) */
};

/** How cw_tls_init() sets up TLS. The strings and buffers are the
 * caller's; the trust anchors are parsed (copied) at init. */
typedef struct cw_tls_config {
    /** Trust anchors: a PEM bundle file, or a buffer of PEM (with its final
     * NUL counted in ca_len) or DER. Neither given: CW_TLS_DEFAULT_CA_FILE
     * (where the build has file support). */
    const char *ca_file;
    const unsigned char *ca;   /**< trust anchors in memory: see ca_file */
    size_t ca_len;             /**< bytes of ca */
    uint8_t min_version;  /**< CW_TLS_1_2 (0 too) or CW_TLS_1_3 */
    uint8_t max_version;  /**< 0: the highest this mbedTLS build supports */
    bool no_resumption;   /**< do not save or offer sessions */
} cw_tls_config_t;

/** A TLS transport's state (mbedTLS's contexts included: about 2 KB plus
 * CW_TLS_SESSION_MAX): place it, cw_tls_init() it over a byte transport,
 * give cw_tls_transport() to the client, and cw_tls_free() it at the end.
 * ca, handshakes and resumptions may be used; the rest is private. */
typedef struct cw_tls {
    /** @privatesection */
    cw_transport_t inner;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    /** @publicsection */
    /** The trust anchors, parsed at init: more may be appended to it
     * (cw_tls_mcu_add_anchors()) before the first connection. */
    mbedtls_x509_crt ca;
    /** @privatesection */
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    uint32_t deadline_start;
    uint32_t deadline_ms;
    int inner_error;       /**< a cw_status_t from the inner transport */
    int tls_error;         /**< last mbedTLS error code */
    uint32_t verify_flags; /**< mbedTLS verification flags of the last try */
    bool connected;
    bool self_signed;      /**< the peer's certificate signed itself */
    const char *version;   /**< of the last handshake, kept after close */
    uint8_t phase;         /**< connect_step: where the connection stands */
    bool stepping;         /**< connect_step: the handshake must not block */
    bool offered;          /**< a saved session was offered */
    bool retried;          /**< the refused session's second connection */
    uint8_t want;          /**< connect_step: CW_WAIT_READ or CW_WAIT_WRITE */
    bool cert_seen;        /**< the handshake carried a certificate */
    bool resumed;          /**< the last handshake resumed a saved session */
    bool cert_asked;       /**< ... and its server asked for a client certificate */
    bool got_data;         /**< application data arrived on this connection */
    bool no_resumption;
    /** @publicsection */
    uint32_t handshakes;   /**< full and resumed, since init */
    uint32_t resumptions;  /**< resumed handshakes, since init */
    /** @privatesection */
    size_t session_len;    /**< 0: no saved session */
    int64_t session_unix;  /**< when it was made (unix seconds; 0 unknown) */
    uint32_t session_lifetime; /**< seconds the server lets it live */
    bool session_imported; /**< came from cw_tls_session_import */
    bool session_refused;  /**< the last import was refused */
    const char *session_note; /**< what became of it, in words */
    char session_host[CW_TLS_HOST_MAX]; /**< the saved session's host */
    unsigned char session[CW_TLS_SESSION_MAX];
    char host[CW_TLS_HOST_MAX];
    uint8_t host_ip[16];   /**< the host as an address, when it is one */
    uint8_t host_ip_len;   /**< 4, 16, or 0 for a name */
    uint8_t first_len;
    uint8_t first[5];      /**< the peer's first bytes in the handshake */
    char peer_name[96];    /**< first DNS name (or subject) of the peer */
    char error[CW_TLS_ERROR_MAX]; /**< the last failure, in words */
} cw_tls_t;

/** Prepares t over inner (copied): seeds the DRBG, loads the trust anchors,
 * sets up the configuration. Returns CW_OK, CW_ERR_INVALID_ARG (bad versions,
 * or trust anchors that do not load: see cw_tls_error) or CW_ERR_TLS. */
CW_API cw_status_t cw_tls_init(cw_tls_t *t, cw_transport_t inner,
                               const cw_tls_config_t *cfg);

/** The transport. Its connect connects inner, then performs the handshake
 * with the host as SNI and for verification: CW_ERR_CERT when the
 * certificate is refused (cw_tls_error says why: expired, not yet valid,
 * wrong host, unknown CA, self-signed), CW_ERR_TLS for other handshake
 * failures. */
CW_API cw_transport_t cw_tls_transport(cw_tls_t *t);

/** True when the last handshake resumed a saved session (TLS 1.2 session
 * ID or ticket, TLS 1.3 ticket): the server sent no certificate. Sessions
 * are saved in t after each handshake (TLS 1.3 tickets as they arrive) and
 * offered on the next connection to the same host. */
CW_API bool cw_tls_resumed(const cw_tls_t *t);

/** Forgets the saved session. */
CW_API void cw_tls_forget_session(cw_tls_t *t);

/* ------------------------------------------------ sessions across reboots
 *
 * A device that sleeps between requests (power off, deep sleep) loses the
 * session kept in cw_tls_t, and pays a full handshake each time. Export
 * the session after a request, keep it, and import it after the next boot:
 * the next connection to the same host resumes (the server willing).
 *
 * THE BLOB IS A SECRET. It holds the session's keys (the TLS 1.2 master
 * secret, or the TLS 1.3 resumption secret): whoever reads it can resume
 * as this device until the server lets the session expire. Keep it where
 * keys go (encrypted flash, a file only the user can read: the CLI writes
 * its --tls-session file with mode 0600), and never log it.
 *
 * The blob carries the host it is for, the mbedTLS version that made it,
 * when it was made, the ticket's lifetime, and a SHA-256 checksum. An
 * import that is damaged, from another mbedTLS version, or expired is
 * refused, and a session for another host is not offered; a session the
 * server declines or cannot take falls back to a full handshake.
 * cw_tls_session_note() says which happened. */

/** Bytes cw_tls_session_export needs now; 0 when there is no session. */
CW_API size_t cw_tls_session_size(const cw_tls_t *t);

/** Writes the saved session into blob[0..cap) and its size into *len.
 * Returns CW_OK, CW_ERR_BUFFER_TOO_SMALL (*len = the size needed), or
 * CW_ERR_INVALID_ARG when there is none. A TLS 1.3 ticket arrives after
 * the handshake, with the first response: export after a request. */
CW_API cw_status_t cw_tls_session_export(const cw_tls_t *t, uint8_t *blob,
                                         size_t cap, size_t *len);

/** Takes a blob made by cw_tls_session_export (in this run or an earlier
 * one), to offer on the next connection to its host. Returns CW_OK, or
 * CW_ERR_INVALID_ARG when it is refused (cw_tls_session_note says why);
 * the next connection then does a full handshake. Copies the blob. */
CW_API cw_status_t cw_tls_session_import(cw_tls_t *t, const uint8_t *blob,
                                         size_t len);

/** What became of the saved session at the last import or connection:
 * "resumed", "offered", "imported", "no saved session", or a sentence on
 * why it was not used. Never NULL; never holds secrets. */
CW_API const char *cw_tls_session_note(const cw_tls_t *t);

/** Frees what mbedTLS allocated for t. */
CW_API void cw_tls_free(cw_tls_t *t);

/** The last failure in words ("" when none). Never contains secrets. */
CW_API const char *cw_tls_error(const cw_tls_t *t);

/** "mbedTLS X.Y.Z, TLS 1.2[, TLS 1.3]": what this build can do. */
CW_API const char *cw_tls_build_info(void);

/** The protocol of the last successful handshake ("TLSv1.2", "TLSv1.3"),
 * still known after the connection closed; "" before any. */
CW_API const char *cw_tls_version(const cw_tls_t *t);

#ifdef __cplusplus
}
#endif

#endif /* CW_TLS_H */
