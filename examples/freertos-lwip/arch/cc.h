/*
 * arch/cc.h - lwIP's compiler and platform glue for arm-none-eabi-gcc with
 * newlib-nano (lwIP's FreeRTOS port ships none).
 */
#ifndef FW_ARCH_CC_H
#define FW_ARCH_CC_H

#include <stdint.h>
#include <sys/time.h> /* struct timeval: newlib has one */

#include "board.h"

/* newlib has struct timeval and errno: use them, not lwIP's copies. */
#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_NO_UNISTD_H 1

/* Diagnostics go to the console; an assertion ends the run (exit 3), so a
 * broken invariant in the stack fails the test instead of going on. */
#define LWIP_PLATFORM_DIAG(x) \
    do {                      \
        fw_printf x;          \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x) fw_panic("lwIP assertion", x, __FILE__, __LINE__)

#define LWIP_RAND() fw_rand()

#endif /* FW_ARCH_CC_H */
