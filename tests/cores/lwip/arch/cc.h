/*
 * arch/cc.h - lwIP's compiler glue for scripts/cores.sh's compiles with
 * picolibc or newlib (which have errno and struct timeval).
 */
#ifndef CW_CORES_ARCH_CC_H
#define CW_CORES_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>

#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_NO_UNISTD_H 1
#define LWIP_PLATFORM_DIAG(x) ((void)0)
#define LWIP_PLATFORM_ASSERT(x) abort()
#define LWIP_RAND() ((uint32_t)rand())

#endif /* CW_CORES_ARCH_CC_H */
