/*
 * bench_main.c - the cost firmware's entry (see bench.h).
 *
 * Command line (QEMU -semihosting-config arg=...):
 *   bench crypto           public-key operations, hashes, record ciphers
 *   bench stream FILE...   chatwire's layers on each recorded response
 * First prints the calibration: a loop of 2,000,000 instructions in Timer0
 * ticks (50,000 when one tick is 40 instructions, as under -icount
 * shift=0). Exits 0 when every measurement ran.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cw_tls_mcu.h"

#include <psa/crypto.h>

#ifndef CW_FW_BUILD_TIME
#error "CW_FW_BUILD_TIME (seconds since 1970) is set by scripts/mcu-cost.sh"
#endif

static uint8_t arena[64u * 1024u] __attribute__((aligned(8)));
static char cmdline[1024];

static uint32_t calibrate(void)
{
    uint64_t t0 = fw_ticks();
    uint32_t n = 1000000u;
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    return (uint32_t)(fw_ticks() - t0);
}

int main(void)
{
    cw_tls_mcu_config_t mcfg;
    char *rest;
    const char *mode;
    const char *file;
    int rc = 0;

    fw_clock_init();
    rest = (char *)fw_semihost_cmdline(cmdline, sizeof cmdline);
    (void)fw_next_word(&rest);
    mode = fw_next_word(&rest);
    printf("bench: calibration: 2000000 instructions in %lu ticks\n",
           (unsigned long)calibrate());
    memset(&mcfg, 0, sizeof mcfg);
    mcfg.arena = arena;
    mcfg.arena_size = sizeof arena;
    mcfg.entropy = cw_insecure_test_entropy;
    mcfg.now_ms = fw_now_ms;
    mcfg.build_time = CW_FW_BUILD_TIME;
    if (cw_tls_mcu_init(&mcfg) != CW_OK || psa_crypto_init() != PSA_SUCCESS) {
        printf("bench: FAIL init\n");
        return 1;
    }
    if (mode != NULL && strcmp(mode, "crypto") == 0) {
        rc = bench_crypto();
    } else if (mode != NULL && strcmp(mode, "stream") == 0) {
        while (rc == 0 && (file = fw_next_word(&rest)) != NULL) {
            rc = bench_stream(file);
        }
    } else {
        printf("usage: bench crypto | bench stream FILE...\n");
        return 2;
    }
    printf("bench: %s\n", rc == 0 ? "done" : "FAILED");
    return rc == 0 ? 0 : 1;
}
