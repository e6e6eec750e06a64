/*
 * bench.h - the cost firmware of scripts/mcu-cost.sh (QEMU mps2-an386):
 * deterministic measurements that need no network. bench_main.c reads the
 * command line and calls one of these.
 */
#ifndef CW_BENCH_H
#define CW_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "fw.h"

/* Public-key operations, hashes and record ciphers (bench_crypto.c). */
int bench_crypto(void);

/* chatwire's layers on a recorded HTTP response in RAM (bench_stream.c):
 * path is a host file read through semihosting. */
int bench_stream(const char *path);

#endif /* CW_BENCH_H */
