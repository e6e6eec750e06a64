/** @file
 * cw_mbedtls_mcu.h - the MCU glue's names before they took the TLS port's
 * prefix (cw_tls_mcu_*, in cw_tls_mcu.h), kept so that firmware written
 * against them still compiles. New code includes cw_tls_mcu.h.
 */
#ifndef CW_MBEDTLS_MCU_H
#define CW_MBEDTLS_MCU_H

#include "cw_tls_mcu.h"

/** @cond COMPAT */
#define cw_mbedtls_mcu_config_t cw_tls_mcu_config_t
#define cw_mbedtls_mcu_config cw_tls_mcu_config
#define cw_mcu_entropy_fn cw_tls_mcu_entropy_fn
#define cw_mbedtls_mcu_init cw_tls_mcu_init
#define cw_mbedtls_mcu_unix_time cw_tls_mcu_unix_time
#define cw_mbedtls_mcu_add_anchors cw_tls_mcu_add_anchors
#define cw_mbedtls_mcu_arena_peak cw_tls_mcu_arena_peak
/** @endcond */

#endif /* CW_MBEDTLS_MCU_H */
