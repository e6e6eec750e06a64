/*
 * lwipopts.h - lwIP options for chatwire's lwIP test when lwIP 2.2.1 is
 * built from source (third_party/src/lwip-2.2.1+dfsg1) with the unix port
 * (contrib/ports/unix: pthread sys_arch, tapif). Not used with Debian's
 * liblwip-dev, which must be compiled against its own /usr/include/lwip/
 * lwipopts.h (the library's ABI depends on it).
 *
 * Differences from Debian's build that the test exercises on purpose:
 * LWIP_DNS=1 (cw_lwip resolves through lwip_getaddrinfo; "localhost" comes
 * from DNS_LOCAL_HOSTLIST, no DNS server needed) and lwIP's own socket
 * types (no LWIP_SOCKET_EXTERNAL_HEADERS). Each option can be overridden
 * with -D to compile-check the other branches of cw_lwip.c
 * (e.g. -DCW_TEST_LWIP_DNS=0 -DCW_TEST_LWIP_POLL=0).
 */
#ifndef CW_TEST_LWIPOPTS_H
#define CW_TEST_LWIPOPTS_H

#ifndef CW_TEST_LWIP_DNS
#define CW_TEST_LWIP_DNS 1
#endif
#ifndef CW_TEST_LWIP_POLL
#define CW_TEST_LWIP_POLL 1
#endif
#ifndef CW_TEST_LWIP_IPV6
#define CW_TEST_LWIP_IPV6 1
#endif

/* An OS (pthreads), the socket API, a tcpip thread */
#define NO_SYS                      0
#define SYS_LIGHTWEIGHT_PROT        1
#define LWIP_SOCKET                 1
#define LWIP_NETCONN                1
#define LWIP_COMPAT_SOCKETS         0 /* no send()/recv() macros */
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_POLL            CW_TEST_LWIP_POLL
#define LWIP_SOCKET_SELECT          1
#define LWIP_TCPIP_CORE_LOCKING     1
#define LWIP_NETIF_API              1

/* Memory: the host's malloc, generous pools */
#define MEM_LIBC_MALLOC             1
#define MEMP_MEM_MALLOC             1
#define MEM_ALIGNMENT               8U
#define MEMP_NUM_NETCONN            16
#define MEMP_NUM_TCP_PCB            8
#define MEMP_NUM_TCP_SEG            64
#define MEMP_NUM_SYS_TIMEOUT        16
#define PBUF_POOL_SIZE              32
#define TCPIP_MBOX_SIZE             32
#define DEFAULT_TCP_RECVMBOX_SIZE   32
#define DEFAULT_ACCEPTMBOX_SIZE     8
#define DEFAULT_RAW_RECVMBOX_SIZE   8
#define DEFAULT_UDP_RECVMBOX_SIZE   8

/* Protocols */
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_IPV4                   1
#define LWIP_IPV6                   CW_TEST_LWIP_IPV6
#define IPV6_FRAG_COPYHEADER        1 /* required on 64-bit hosts */
#define LWIP_ICMP                   1
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define TCP_MSS                     1460
#define TCP_WND                     (8 * TCP_MSS)
#define TCP_SND_BUF                 (8 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define LWIP_NETIF_LINK_CALLBACK    1
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1

/* DNS: "localhost" maps to the test server's address in the namespace
 * (tests/lwip/run.sh: the host end of the TAP link is 192.0.2.1). */
#define LWIP_DNS                    CW_TEST_LWIP_DNS
#if LWIP_DNS
#define DNS_LOCAL_HOSTLIST          1
#define DNS_LOCAL_HOSTLIST_IS_DYNAMIC 0
#define DNS_LOCAL_HOSTLIST_INIT     { DNS_LOCAL_HOSTLIST_ELEM("localhost", \
                                        IPADDR4_INIT_BYTES(192, 0, 2, 1)) }
#endif

#define LWIP_STATS                  0
#define LWIP_NOASSERT_ON_ERROR      1

#endif /* CW_TEST_LWIPOPTS_H */
