/** @file
 * cw_tls_mcu.h - the platform glue mbedTLS needs on a microcontroller
 * built with cw_mbedtls_config.h: a static arena for its allocations, an
 * entropy source, a millisecond clock and a wall clock for certificate
 * validity. Call cw_tls_mcu_init() once, before cw_tls_init().
 *
 * mbedTLS keeps these settings in globals (its allocator, its time
 * function), so this glue is a singleton: one configuration per firmware.
 * No memory is allocated here; the arena belongs to the caller.
 *
 * Entropy contract (cw_tls_mcu_entropy_fn). The function is mbedTLS's only
 * entropy source (MBEDTLS_ENTROPY_HARDWARE_ALT, MBEDTLS_NO_PLATFORM_ENTROPY)
 * and is trusted as a *strong* source. It must:
 *   - fill out[0..len) with bits from a true random number generator (the
 *     MCU's TRNG peripheral, conditioned as its reference manual requires),
 *     each output byte carrying a full 8 bits of entropy; a health-test
 *     failure of the TRNG is an error, never "fewer good bytes";
 *   - never return the same bytes twice, across resets included (no fixed
 *     seeds, no counters, no clocks, no unique-ID registers);
 *   - return 0 (CW_OK) when all len bytes were written, any other value
 *     on failure (then the handshake fails: mbedTLS never runs on partial
 *     entropy), as every chatwire callback does (chatwire.h);
 *   - may block briefly; it is called from the thread running mbedTLS, at
 *     cw_tls_init() (DRBG and PSA seeding) and when the DRBG reseeds.
 * A PRNG, a timer or a hash of RAM contents is NOT an entropy source. For
 * an emulator without a TRNG, see the example's cw_insecure_test_entropy(),
 * which must never be linked into a product.
 *
 * Time for certificate validity. A device without a battery-backed clock
 * does not know the date at boot. The options, best first:
 *   1. a real time from SNTP, a cellular modem or GNSS, set through the
 *      unix_time hook before connecting;
 *   2. the Date header of a previous HTTPS response (authenticated by TLS,
 *      so not spoofable on the path), kept in non-volatile memory: this
 *      needs one first connection that verifies with what is known then,
 *      and chatwire does not keep the Date header in cw_http_info_t yet;
 *   3. a lower bound only: build_time (the firmware's build time), used
 *      whenever the hook is NULL or returns less than it. Then a
 *      certificate that expired after the build is still accepted (expiry
 *      cannot be detected), and one issued after the build is rejected as
 *      "not yet valid". Public server certificates are reissued every 60-90
 *      days, so a firmware that knows only its build time stops connecting
 *      to public servers within weeks: use 1 or 2 for them. The build time
 *      suits a test server whose certificate predates the build (the QEMU
 *      example).
 * Without a hook and with build_time 0, time is 1970 and every certificate
 * is rejected as not yet valid (fails closed).
 */
#ifndef CW_TLS_MCU_H
#define CW_TLS_MCU_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "chatwire.h"
#include "cw_trust_anchors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fills out[0..len) from a TRNG. CW_OK (0) on success, any other value on
 * failure. See the contract above. */
typedef int (*cw_tls_mcu_entropy_fn)(void *ctx, uint8_t *out, size_t len);

/** What cw_tls_mcu_init() installs. Every pointer is the caller's. */
typedef struct cw_tls_mcu_config {
    uint8_t *arena;            /**< mbedTLS's heap, caller-owned, >= 4 KiB;
                                  must outlive every mbedTLS object */
    size_t arena_size;         /**< bytes of arena */
    cw_tls_mcu_entropy_fn entropy; /**< required */
    void *entropy_ctx;         /**< passed to entropy */
    uint32_t (*now_ms)(void *ctx); /**< monotonic ms (wraps at 2^32);
                                      required */
    void *now_ms_ctx;          /**< passed to now_ms */
    int64_t (*unix_time)(void *ctx); /**< seconds since 1970 UTC, <= 0 if not
                                        known; optional */
    void *unix_time_ctx;       /**< passed to unix_time */
    int64_t build_time;        /**< lower bound for unix time (0: none) */
} cw_tls_mcu_config_t;

/** Points mbedTLS's calloc/free at the arena, installs the time functions
 * and the entropy hook. Returns CW_OK, or CW_ERR_INVALID_ARG for a missing
 * arena (or one under 4 KiB), entropy or now_ms. Call once, before any
 * mbedTLS function. */
cw_status_t cw_tls_mcu_init(const cw_tls_mcu_config_t *cfg);

/** The current time mbedTLS uses for certificate validity (seconds since
 * 1970): max(unix_time hook, build_time). */
int64_t cw_tls_mcu_unix_time(void);

/** Appends trust anchors that live in flash to chain (for example
 * &cw_tls_t.ca after cw_tls_init()) without copying their DER: each costs
 * only its parsed mbedtls_x509_crt structure in the arena. Returns the
 * number loaded; anchors that do not parse are skipped. */
size_t cw_tls_mcu_add_anchors(mbedtls_x509_crt *chain,
                                  const cw_trust_anchor_t *anchors,
                                  size_t count);

/** The arena's high-water mark in bytes and blocks, when built with
 * CW_MBEDTLS_MEMORY_DEBUG (MBEDTLS_MEMORY_DEBUG); 0 otherwise. */
size_t cw_tls_mcu_arena_peak(size_t *blocks);

#ifdef __cplusplus
}
#endif

#endif /* CW_TLS_MCU_H */
