/*
 * cw_mbedtls_config.h - mbedTLS 3.6 configuration for a chatwire client on a
 * microcontroller (measured on a Cortex-M4, see examples/qemu-mps2/).
 *
 * Use it instead of mbedTLS's own default configuration when compiling both
 * mbedTLS and chatwire:
 *
 *     -DMBEDTLS_CONFIG_FILE='"cw_mbedtls_config.h"' -Iports/mbedtls/mcu
 *
 * What it gives: a TLS client only (no server code), TLS 1.2 and TLS 1.3,
 * ECDHE key exchange only (forward secrecy; no static RSA),
 * ChaCha20-Poly1305 first, then AES-128-GCM (and AES-256-GCM in TLS 1.2),
 * groups P-256 (p256-m), X25519 and P-384, server signatures
 * ECDSA, RSA PKCS#1 v1.5 and RSA-PSS (public roots such as ISRG Root X1 and
 * GTS Root R1 are RSA-4096, and TLS 1.3 with an RSA server key needs PSS),
 * SNI, ALPN, session tickets (TLS 1.2 and 1.3 resumption), no file system,
 * no threads, no debug strings, no error strings.
 *
 * Memory: mbedTLS calls calloc/free for its record buffers, handshake state,
 * parsed certificates and PSA key slots. MBEDTLS_MEMORY_BUFFER_ALLOC_C points
 * those calls at a static arena the application provides
 * (cw_tls_mcu_init() in cw_tls_mcu.h calls
 * mbedtls_memory_buffer_alloc_init). The system heap is never used by
 * mbedTLS.
 *
 * Platform hooks this configuration requires (cw_tls_mcu.c provides
 * them and forwards to functions the application registers at run time):
 *   - mbedtls_hardware_poll()  entropy (MBEDTLS_ENTROPY_HARDWARE_ALT): the
 *                              only entropy source; see cw_tls_mcu.h for
 *                              the contract a TRNG driver must meet;
 *   - mbedtls_ms_time()        monotonic milliseconds
 *                              (MBEDTLS_PLATFORM_MS_TIME_ALT), used for TLS
 *                              1.3 ticket ages;
 *   - mbedtls_time()           wall-clock seconds for certificate validity
 *                              (MBEDTLS_PLATFORM_TIME_ALT, set with
 *                              mbedtls_platform_set_time()). Until the
 *                              application sets it, time is 0 (1970) and
 *                              every certificate is "not yet valid":
 *                              verification fails closed;
 *   - mbedtls_platform_gmtime_r() those seconds as a UTC date
 *                              (MBEDTLS_PLATFORM_GMTIME_R_ALT), without the
 *                              C library.
 *
 * Override anything by defining MBEDTLS_USER_CONFIG_FILE: mbedTLS includes
 * that file after this one.
 */
#ifndef CW_MBEDTLS_CONFIG_H
#define CW_MBEDTLS_CONFIG_H

/* ------------------------------------------------------------- platform */

/* Cortex-M assembly for bignum multiplication (UMAAL on v7E-M). */
#define MBEDTLS_HAVE_ASM
/* Time: certificate validity (HAVE_TIME_DATE) and ticket lifetimes. Both
 * come from the hooks above, never from the C library's time(). */
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_TIME_ALT
#define MBEDTLS_PLATFORM_MS_TIME_ALT
/* Seconds to a date for certificate validity: cw_tls_mcu.c converts
 * itself. mbedTLS would call the C library's gmtime() (not gmtime_r: it
 * cannot tell that a bare-metal libc has one), which is not reentrant and,
 * in newlib-nano, allocates its struct tm with malloc on first use: inside
 * an RTOS task that fails (newlib's sbrk refuses a task's stack). */
#define MBEDTLS_PLATFORM_GMTIME_R_ALT
/* calloc/free through mbedtls_platform_set_calloc_free(), which
 * mbedtls_memory_buffer_alloc_init() calls with the arena allocator. */
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
/* Arena statistics (mbedtls_memory_buffer_alloc_max_get): defined by the
 * example build to report the peak; costs ~8 bytes per block and a little
 * code. Off in a product. */
#if defined(CW_MBEDTLS_MEMORY_DEBUG)
#define MBEDTLS_MEMORY_DEBUG
#endif
/* No /dev/urandom, no getrandom(): the entropy comes from
 * mbedtls_hardware_poll() only. */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT
/* Bytes the hardware source must deliver before the entropy pool releases
 * output (mbedTLS default 32). */
#define MBEDTLS_ENTROPY_MIN_HARDWARE 32

/* ------------------------------------------------------------- RNG */

#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/* ------------------------------------------------------------- symmetric */

#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
/* AES tables in flash (const) instead of 8 KiB of RAM built at run time, and
 * one quarter of them (2 KiB of flash instead of 8 KiB): a few more
 * rotations per round. */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C

/* ------------------------------------------------------------- hashes */

#define MBEDTLS_MD_C
#define MBEDTLS_SHA224_C   /* mbedTLS builds SHA-224 and SHA-256 together */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C   /* TLS_AES_256_GCM_SHA384, ECDSA-with-SHA384 */
#define MBEDTLS_SHA512_C   /* SHA-384 is computed by the SHA-512 code */
/* Loop instead of unrolled rounds: about 1-2 KiB less flash, slower hashes
 * (hashing is a small part of a handshake here). */
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_SMALLER
#define MBEDTLS_HKDF_C     /* TLS 1.3 key schedule */
/* SHA-1 only so that roots self-signed with SHA-1 (GlobalSign Root CA,
 * which cross-signs GTS Root R1/R4) can be parsed: mbedTLS refuses to parse
 * a certificate whose signature algorithm it lacks. Certificates signed with
 * SHA-1 are still rejected by verification (the default X.509 profile
 * excludes SHA-1), and TLS does not offer SHA-1 signatures. */
#define MBEDTLS_SHA1_C

/* ------------------------------------------------------------- public key */

#define MBEDTLS_BIGNUM_C
/* Largest number: RSA-4096 roots need 512 bytes (default 1024). Bounds the
 * size of some stack buffers. */
#define MBEDTLS_MPI_MAX_SIZE 512
#define MBEDTLS_OID_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C  /* ECDSA signature encoding, PSA export */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21     /* RSA-PSS */
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
/* The legacy ECP code serves what p256-m does not (below): P-384 and
 * X25519. Window 2 and no cached comb table for the base point keep its
 * working memory in the arena to a few KiB and its flash small; window 4
 * with the fixed-point tables would make a P-384 signature check about 40 %
 * cheaper for about 6 KB of flash (scripts/mcu-cost.sh, variant ecp4),
 * worth it for a server whose chain has P-384 signatures. */
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

/* ------------------------------------------------------------- PSA */

/* TLS 1.3 runs its key schedule and AEAD through PSA: cw_tls_init() calls
 * psa_crypto_init(). Key slots live in the arena (dynamic key store). */
#define MBEDTLS_PSA_CRYPTO_C
/* P-256 through p256-m (mbedTLS's 3rdparty/p256-m, a PSA driver): ECDHE
 * key generation, ECDH and ECDSA signature checks. USE_PSA_CRYPTO makes
 * X.509, TLS 1.2 and the TLS signature checks go through PSA, so that they
 * reach it too (without it only TLS 1.3's ECDHE does). Measured on the
 * Cortex-M4 (scripts/mcu-cost.sh, which prints the figures and the other
 * variants): a full TLS 1.3 handshake with an EC P-256 server takes less
 * than half the instructions of the legacy ECP code with window 2, for
 * about 16 KB more flash, 5 KB of it for compiling p256-m.c with -O3
 * (scripts/mcu-common.sh, mbed_fast). One quirk stays: p256-m's key
 * generation computes the public key and drops it, and PSA's export
 * computes it again, so an ECDHE costs three scalar multiplications
 * instead of two; the driver is chosen by key type alone, so no setting
 * avoids it (X25519 instead, through the legacy code, costs more than the
 * three). */
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED
#define MBEDTLS_USE_PSA_CRYPTO
/* PSA functions then copy every input and output buffer to the heap first,
 * which protects a crypto service from callers that share memory with it
 * across a trust boundary. Here mbedTLS, chatwire and the application are
 * one program in one address space: no such caller exists. Without this,
 * with USE_PSA_CRYPTO, each full 16 KiB TLS record is decrypted through
 * two 16 KiB copies in the arena (measured: scripts/mcu-run.sh --big fails
 * with MBEDTLS_ERR_SSL_ALLOC_FAILED in the 64 KiB arena). */
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS

/* ------------------------------------------------------------- X.509 */

#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
/* No PEM: trust anchors are compiled in as DER (scripts/gen-trust-anchors.sh
 * and the example's generated test CA). Saves base64 + PEM code. Define
 * MBEDTLS_PEM_PARSE_C and MBEDTLS_BASE64_C in a user config to accept PEM. */

/* ------------------------------------------------------------- TLS */

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE  /* middlebox-friendly */
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
/* Required by mbedTLS 3.6 with TLS 1.3: the peer's chain is kept in the
 * session (costs its DER size in the arena while connected). */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
/* Lets an application ask its own server for smaller records with
 * mbedtls_ssl_conf_max_frag_len() (cw_tls.c does not). It does not let
 * IN_CONTENT_LEN shrink for public servers: see below. */
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH

/* Record buffers (each also carries ~29 bytes of header/overhead in 1.2 and
 * the AEAD expansion).
 *
 * IN must stay 16384 for public servers. TLS lets a peer send records of up
 * to 2^14 bytes of plaintext, and the servers in front of api.openai.com,
 * api.cometapi.com and most APIs (Cloudflare, Google Front End, nginx) do
 * exactly that: a 16 KiB record as soon as the response is large enough,
 * and their certificate chains (RSA-4096 roots, several intermediates) come
 * in large handshake records too. mbedTLS must hold a whole record before it
 * can decrypt and authenticate it, so a smaller IN buffer makes such a
 * record a fatal error (measured with IN 4096: mbedtls_ssl_read fails with
 * -0x7100, MBEDTLS_ERR_SSL_BAD_INPUT_DATA, at the first full record). The
 * max_fragment_length extension (RFC 6066), which would let a client ask for
 * 512..4096-byte records, is ignored by those servers. TLS 1.3's
 * record_size_limit (RFC 8449) is only an experimental option in mbedTLS 3.6
 * (MBEDTLS_SSL_RECORD_SIZE_LIMIT) and servers cannot be relied on to honour
 * it (OpenSSL 3.0, behind the test server, does not implement it). Against your
 * own server, known to send small records or to honour max fragment length,
 * IN can be reduced in a user config (MBEDTLS_USER_CONFIG_FILE).
 * Measured: scripts/mcu-run.sh --big makes the test server write ~130 KiB at
 * once (full 16 KiB TLS records): passes with 16384, fails with 4096
 * (the arena peak drops from ~36 KiB to ~23 KiB with 4096).
 *
 * OUT is what this client sends: a ClientHello (~300-500 bytes) and request
 * pieces no larger than chatwire's io buffer, which it writes in pieces; 4
 * KiB covers both with room to spare. */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

/* Only forward-secret AEAD suites, cheapest first on a core without AES
 * hardware (the Cortex-M4): ChaCha20-Poly1305 decrypts a KiB in about a
 * third of AES-GCM's instructions (scripts/mcu-cost.sh, "record cipher"),
 * and AES-128 is cheaper than AES-256. TLS 1.3: ChaCha20-Poly1305, then
 * AES-128-GCM, which every TLS 1.3 server must implement (RFC 8446, 9.1);
 * AES-256-GCM-SHA384 is left out, so that a server that picks by its own
 * preference (OpenSSL's default puts AES-256 first) cannot choose the
 * dearest record cipher and the SHA-384 key schedule. TLS 1.2 has no
 * mandatory suite: AES-256-GCM stays there, last, for servers that offer
 * nothing else. mbedTLS takes both versions' suites from this list, in
 * this order. */
#define MBEDTLS_SSL_CIPHERSUITES                                   \
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,                       \
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,                             \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,         \
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,           \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,               \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,                 \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,               \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384

/* Left out on purpose: MBEDTLS_FS_IO and MBEDTLS_NET_C (no file system, no
 * sockets: chatwire's transport carries the bytes), MBEDTLS_THREADING_C,
 * MBEDTLS_DEBUG_C and MBEDTLS_ERROR_C (strings; cw_tls.c then reports the
 * numeric code), MBEDTLS_SSL_SRV_C, MBEDTLS_SSL_RENEGOTIATION, DTLS, CBC
 * suites, static RSA key exchange, MD5, the self tests. */

#endif /* CW_MBEDTLS_CONFIG_H */
