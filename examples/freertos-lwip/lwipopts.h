/*
 * lwipopts.h - lwIP 2.2.1 for chatwire on FreeRTOS (mps2-an386, LAN9118):
 * the socket API over a tcpip thread, IPv4, TCP, UDP for DNS, static pools
 * (no malloc: lwIP's heap and pools are arrays in .bss), statistics on so
 * that the firmware can print each pool's high-water mark.
 */
#ifndef FW_LWIPOPTS_H
#define FW_LWIPOPTS_H

/* ------------------------------------------------------------ OS */
#define NO_SYS 0
#define SYS_LIGHTWEIGHT_PROT 1
/* Sockets call into the stack under a mutex instead of posting each call to
 * the tcpip thread and waiting: fewer context switches per send/recv. */
#define LWIP_TCPIP_CORE_LOCKING 1
#define LWIP_TCPIP_CORE_LOCKING_INPUT 0 /* frames go through the mailbox */
/* The FreeRTOS port checks that every core function runs under the core
 * lock (or in the tcpip thread): a driver or task that forgets the lock
 * ends the run with an lwIP assertion instead of corrupting the stack. */
#define LWIP_FREERTOS_CHECK_CORE_LOCKING 1
void sys_check_core_locking(void);
void sys_mark_tcpip_thread(void);
/* remembers the caller, so that a failed check names it (startup.c) */
void fw_check_core_locked(const char *file, int line);
#define LWIP_ASSERT_CORE_LOCKED() fw_check_core_locked(__FILE__, __LINE__)
#define LWIP_MARK_TCPIP_THREAD() sys_mark_tcpip_thread()
/* The check knows the lock's holder only when locking goes through the
 * port's functions: tcpip.h's default LOCK_TCPIP_CORE takes the mutex
 * directly, and every core call then fails the check. */
void sys_lock_tcpip_core(void);
void sys_unlock_tcpip_core(void);
#define LOCK_TCPIP_CORE() sys_lock_tcpip_core()
#define UNLOCK_TCPIP_CORE() sys_unlock_tcpip_core()

/* Task priorities (FreeRTOS, 0..7): the heartbeat 7 above everything, the
 * tcpip thread 5, the Ethernet input task 4 (each frame it posts is taken
 * up by the tcpip thread at once, so frames do not pile up in the mailbox),
 * the chat task 2. Stack sizes for sys_thread_new are in bytes (the port's
 * default). */
#define TCPIP_THREAD_NAME "tcpip"
#define TCPIP_THREAD_PRIO 5
#define TCPIP_THREAD_STACKSIZE 1536
#define TCPIP_MBOX_SIZE 16
#define DEFAULT_TCP_RECVMBOX_SIZE 16
#define DEFAULT_UDP_RECVMBOX_SIZE 4
#define DEFAULT_ACCEPTMBOX_SIZE 2

/* ------------------------------------------------------------ API */
#define LWIP_SOCKET 1
#define LWIP_NETCONN 1            /* the socket layer sits on netconns */
#define LWIP_COMPAT_SOCKETS 0     /* no send()/recv() macros */
#define LWIP_POSIX_SOCKETS_IO_NAMES 0 /* no read/write/close macros */
#define LWIP_SOCKET_POLL 1        /* cw_lwip waits with lwip_poll */
#define LWIP_SOCKET_SELECT 0
#define LWIP_NETIF_API 0
#define LWIP_SO_RCVTIMEO 0        /* waits are lwip_poll's */
#define LWIP_SO_SNDTIMEO 0
#define LWIP_TCP_KEEPALIVE 0
#define LWIP_NETCONN_SEM_PER_THREAD 0

/* ------------------------------------------------------------ memory */
/* Cortex-M4: word alignment. lwIP's heap (PBUF_RAM: the TCP segments it
 * sends, ARP and DNS packets) and pools are static arrays. */
#define MEM_ALIGNMENT 4
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_SIZE (10u * 1024u)
/* One TLS connection at a time (plus ones in TIME_WAIT), one UDP pcb for
 * DNS. */
#define MEMP_NUM_TCP_PCB 4
#define MEMP_NUM_TCP_PCB_LISTEN 1
#define MEMP_NUM_UDP_PCB 2
#define MEMP_NUM_RAW_PCB 0
#define MEMP_NUM_NETCONN 4
#define MEMP_NUM_NETBUF 4
#define MEMP_NUM_TCP_SEG 24
#define MEMP_NUM_PBUF 8          /* PBUF_ROM/REF: none on this path */
#define MEMP_NUM_TCPIP_MSG_API 4
#define MEMP_NUM_TCPIP_MSG_INPKT 16
#define MEMP_NUM_ARP_QUEUE 4
/* Received frames, in a pool of 512-byte buffers (a full frame takes three,
 * chained). A stream arrives as many small segments (one TLS record per
 * event, 150-400 bytes each) that wait in the socket until the chat task
 * reads them: with one 1536-byte buffer per frame, 12 buffers ran out at a
 * burst of 13 events (measured); 24 small ones hold more frames in less
 * RAM, and still a full window (4 x 3 buffers) plus reordered segments. */
#define PBUF_POOL_SIZE 24
#define PBUF_POOL_BUFSIZE 512

/* ------------------------------------------------------------ protocols */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define ARP_QUEUEING 1
#define LWIP_ICMP 1               /* answers ping from the namespace */
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_DHCP 0               /* a static address on the test net */
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define LWIP_TCP 1
#define TCP_MSS 1460
/* 4 segments: 5840 bytes in flight each way. A TLS record of 16 KiB then
 * takes three round trips; the answers here are small. */
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (4 * TCP_MSS)
#define TCP_SND_QUEUELEN 16
#define TCP_QUEUE_OOSEQ 1         /* keep reordered segments */
#define TCP_OOSEQ_MAX_PBUFS 12    /* at most half of the pool */
/* TIME_WAIT lasts 2 x TCP_MSL: 2 s instead of lwIP's 2 min, so that the
 * soak sees each closed connection's pcb freed before it compares the
 * pools (a client that closes first holds one TIME_WAIT pcb per close). */
#define TCP_MSL 1000UL
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1 /* a new port at each boot */
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_SINGLE_NETIF 1

/* DNS through the server the firmware is given (dns_setserver). */
#define LWIP_DNS 1
#define DNS_MAX_SERVERS 1
#define DNS_TABLE_SIZE 2
#define DNS_MAX_NAME_LENGTH 128
#define LWIP_DNS_SECURE (LWIP_DNS_SECURE_RAND_XID | LWIP_DNS_SECURE_NO_MULTIPLE_OUTSTANDING | LWIP_DNS_SECURE_RAND_SRC_PORT)

/* ------------------------------------------------------------ checksums */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_UDP 1

/* ------------------------------------------------------------ statistics */
/* The firmware prints used/max/avail/err of every pool and of the heap
 * (report.c); lwIP's own printing is not linked. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define MEM_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 1
#define LINK_STATS 1
#define ETHARP_STATS 0
#define IP_STATS 0
#define ICMP_STATS 0
#define UDP_STATS 0
#define TCP_STATS 1
#define IPFRAG_STATS 0

#endif /* FW_LWIPOPTS_H */
