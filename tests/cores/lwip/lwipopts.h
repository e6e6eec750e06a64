/*
 * lwipopts.h - the lwIP options cw_lwip.c is compiled against by
 * scripts/cores.sh for other cores (an RTOS build with sockets, DNS and
 * poll, as examples/freertos-lwip has them). Only compiled, never linked:
 * lwIP's own sources are not built here.
 */
#ifndef CW_CORES_LWIPOPTS_H
#define CW_CORES_LWIPOPTS_H

#define NO_SYS 0
#define LWIP_SOCKET 1
#define LWIP_NETCONN 1
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_POLL 1
#define LWIP_SOCKET_SELECT 0
#define LWIP_SO_RCVTIMEO 1
#define LWIP_DNS 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define MEM_ALIGNMENT 4
#define LWIP_TIMEVAL_PRIVATE 0

#endif /* CW_CORES_LWIPOPTS_H */
