/*
 * cw_tls_mcu.c - mbedTLS platform glue for microcontrollers. See
 * cw_tls_mcu.h and cw_mbedtls_config.h.
 */
#include "cw_tls_mcu.h"

#include <stdbool.h>
#include <string.h>

#include <mbedtls/build_info.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/memory_buffer_alloc.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_time.h>
#include <mbedtls/platform_util.h>

#if !defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C) || \
    !defined(MBEDTLS_ENTROPY_HARDWARE_ALT) ||  \
    !defined(MBEDTLS_PLATFORM_TIME_ALT) ||     \
    !defined(MBEDTLS_PLATFORM_MS_TIME_ALT) ||   \
    !defined(MBEDTLS_PLATFORM_GMTIME_R_ALT)
#error "cw_tls_mcu.c needs cw_mbedtls_config.h (MBEDTLS_CONFIG_FILE)"
#endif

/* mbedTLS declares this in a private header (library/entropy_poll.h). */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
                          size_t *olen);

/* mbedTLS's allocator and time are global, so this state is too. */
static cw_tls_mcu_config_t glue;
static uint32_t ms_last;   /* last now_ms reading */
static int64_t ms_high;    /* wraps of now_ms, in ms */

/* MBEDTLS_PLATFORM_TIME_ALT: what mbedtls_time() returns. */
static mbedtls_time_t mcu_time(mbedtls_time_t *timer)
{
    mbedtls_time_t t = (mbedtls_time_t)cw_tls_mcu_unix_time();
    if (timer != NULL) {
        *timer = t;
    }
    return t;
}

cw_status_t cw_tls_mcu_init(const cw_tls_mcu_config_t *cfg)
{
    if (cfg == NULL || cfg->arena == NULL || cfg->arena_size < 4096u ||
        cfg->entropy == NULL || cfg->now_ms == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    glue = *cfg;
    ms_last = cfg->now_ms(cfg->now_ms_ctx);
    ms_high = 0;
    mbedtls_memory_buffer_alloc_init(cfg->arena, cfg->arena_size);
    (void)mbedtls_platform_set_time(mcu_time);
    return CW_OK;
}

int64_t cw_tls_mcu_unix_time(void)
{
    int64_t t = 0;
    if (glue.unix_time != NULL) {
        t = glue.unix_time(glue.unix_time_ctx);
    }
    return t > glue.build_time ? t : glue.build_time;
}

/* MBEDTLS_PLATFORM_MS_TIME_ALT: 64-bit milliseconds from the 32-bit
 * monotonic clock. Correct as long as it is called at least once per 49
 * days, which every TLS 1.3 connection does. */
mbedtls_ms_time_t mbedtls_ms_time(void)
{
    uint32_t now;
    if (glue.now_ms == NULL) {
        return 0;
    }
    now = glue.now_ms(glue.now_ms_ctx);
    if (now < ms_last) {
        ms_high += (int64_t)1 << 32;
    }
    ms_last = now;
    return (mbedtls_ms_time_t)(ms_high + (int64_t)now);
}

/* MBEDTLS_PLATFORM_GMTIME_R_ALT: seconds since 1970 to a UTC date, by
 * arithmetic only (the days-to-civil conversion of the proleptic Gregorian
 * calendar): no C library call, no allocation, reentrant. One 64-bit
 * division; the rest is 32-bit, for +-5.8 million years (NULL beyond). */
struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt,
                                     struct tm *tm_buf)
{
    int64_t t = (int64_t)*tt;
    int64_t days64 = t / 86400;
    int32_t secs = (int32_t)(t - days64 * 86400);
    int32_t days, era, doe, yoe, doy, mp, month, year;

    if (secs < 0) {
        secs += 86400;
        days64--;
    }
    if (days64 < -2000000000 || days64 > 2000000000) {
        return NULL;
    }
    days = (int32_t)days64;
    /* 1970-01-01 was a Thursday (4) */
    tm_buf->tm_wday = (int)(((days % 7) + 11) % 7);
    days += 719468; /* from 0000-03-01 */
    era = (days >= 0 ? days : days - 146096) / 146097;
    doe = days - era * 146097;                                   /* [0, 146096] */
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    mp = (5 * doy + 2) / 153;                                    /* March = 0 */
    month = mp < 10 ? mp + 3 : mp - 9;                           /* [1, 12] */
    year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    tm_buf->tm_year = (int)(year - 1900);
    tm_buf->tm_mon = (int)(month - 1);
    tm_buf->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    /* from January 1st: March 1st is day 59, or 60 in a leap year */
    tm_buf->tm_yday = (int)(mp >= 10 ? doy - 306
                                     : doy + 59 + ((year % 4 == 0 &&
                                                    (year % 100 != 0 ||
                                                     year % 400 == 0))
                                                       ? 1 : 0));
    tm_buf->tm_hour = (int)(secs / 3600);
    tm_buf->tm_min = (int)(secs / 60 % 60);
    tm_buf->tm_sec = (int)(secs % 60);
    tm_buf->tm_isdst = 0;
    return tm_buf;
}

/* MBEDTLS_ENTROPY_HARDWARE_ALT: all or nothing, see the contract. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
                          size_t *olen)
{
    (void)data;
    *olen = 0;
    if (glue.entropy == NULL ||
        glue.entropy(glue.entropy_ctx, output, len) != 0) {
        return -1; /* the entropy module reports a source failure */
    }
    *olen = len;
    return 0;
}

size_t cw_tls_mcu_add_anchors(mbedtls_x509_crt *chain,
                                  const cw_trust_anchor_t *anchors,
                                  size_t count)
{
    size_t i;
    size_t loaded = 0;

    if (chain == NULL || anchors == NULL) {
        return 0;
    }
    for (i = 0; i < count; i++) {
        /* nocopy: the DER stays in flash, only the parsed form is in RAM */
        if (mbedtls_x509_crt_parse_der_nocopy(chain, anchors[i].der,
                                              anchors[i].der_len) == 0) {
            loaded++;
        }
    }
    return loaded;
}

size_t cw_tls_mcu_arena_peak(size_t *blocks)
{
    size_t used = 0;
    size_t n = 0;
#if defined(MBEDTLS_MEMORY_DEBUG)
    mbedtls_memory_buffer_alloc_max_get(&used, &n);
#endif
    if (blocks != NULL) {
        *blocks = n;
    }
    return used;
}

#if defined(MBEDTLS_PSA_P256M_DRIVER_ENABLED)
/* p256-m's PSA driver (3rdparty/p256-m/p256-m_driver_entrypoints.c) keeps
 * only the private key of a generated key pair and drops the public key
 * p256-m computed with it; psa_export_public_key then computes it again, a
 * second scalar multiplication (6.1 M instructions on a Cortex-M4). A TLS
 * handshake always exports the key it generates for its key share, so
 * each handshake pays for one multiplication it need not. Built with
 *   -Dp256_gen_keypair=cw_p256m_gen_keypair
 *   -Dp256_public_from_private=cw_p256m_public_from_private
 * on that one file (scripts/mcu-common.sh does it), the driver calls the
 * two functions below: the last pair generated is kept, and an export of
 * its private key takes the public key from there, once; the kept copy is
 * wiped then, and any other private key is computed as before. Without
 * those defines, these functions are unused. */
int p256_gen_keypair(uint8_t priv[32], uint8_t pub[64]);
int p256_public_from_private(uint8_t pub[64], const uint8_t priv[32]);
int cw_p256m_gen_keypair(uint8_t priv[32], uint8_t pub[64]);
int cw_p256m_public_from_private(uint8_t pub[64], const uint8_t priv[32]);

static struct {
    uint8_t priv[32];
    uint8_t pub[64];
    bool kept;
} last_pair;

int cw_p256m_gen_keypair(uint8_t priv[32], uint8_t pub[64])
{
    int ret = p256_gen_keypair(priv, pub);

    last_pair.kept = ret == 0; /* P256_SUCCESS */
    if (last_pair.kept) {
        memcpy(last_pair.priv, priv, sizeof last_pair.priv);
        memcpy(last_pair.pub, pub, sizeof last_pair.pub);
    }
    return ret;
}

int cw_p256m_public_from_private(uint8_t pub[64], const uint8_t priv[32])
{
    if (last_pair.kept &&
        mbedtls_ct_memcmp(priv, last_pair.priv, sizeof last_pair.priv) == 0) {
        memcpy(pub, last_pair.pub, sizeof last_pair.pub);
        mbedtls_platform_zeroize(&last_pair, sizeof last_pair);
        return 0;
    }
    return p256_public_from_private(pub, priv);
}
#endif
