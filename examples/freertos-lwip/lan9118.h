/*
 * lan9118.h - lwIP netif driver for the SMSC LAN9118 Ethernet controller of
 * QEMU mps2-an385/an386 (a LAN9220 on the real boards), 32-bit bus.
 *
 * Receive is interrupt driven: IRQ 13 wakes an input task (a task
 * notification), which drains the RX FIFOs into PBUF_POOL pbufs and hands
 * each frame to netif->input (tcpip_input: the tcpip thread processes it).
 * Transmit is polled: linkoutput writes the frame into the TX FIFO and
 * returns (the emulated MAC sends at once).
 *
 * Use: netif_add(&nif, &ip, &mask, &gw, NULL, lan9118_netif_init,
 * tcpip_input) under the core lock, from a task (the scheduler must run: the
 * input task is created there). One controller per firmware.
 */
#ifndef FW_LAN9118_H
#define FW_LAN9118_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/err.h"
#include "lwip/netif.h"

/* Counters since init; read them as a snapshot (lan9118_stats_get). */
typedef struct lan9118_stats {
    uint32_t irqs;        /* interrupt handler entries */
    uint32_t rx_frames;   /* frames handed to lwIP */
    uint32_t rx_bytes;    /* their bytes, without the CRC */
    uint32_t rx_errors;   /* frames the MAC flagged (error status bit) or
                             with an impossible length: dropped */
    uint32_t rx_no_pbuf;  /* frames dropped: PBUF_POOL empty */
    uint32_t rx_refused;  /* frames netif->input refused (mailbox full) */
    uint32_t rx_max_batch;/* most frames drained after one interrupt */
    uint32_t tx_frames;
    uint32_t tx_bytes;
    uint32_t tx_errors;   /* TX status words with the error bit */
    uint32_t tx_no_space; /* frames dropped: TX FIFO stayed full */
} lan9118_stats_t;

/* netif init callback for netif_add: resets the controller, reads its MAC
 * address (QEMU's -nic mac=), enables receive and IRQ 13, creates the
 * input task. ERR_IF when no LAN9118 answers, ERR_MEM without a task. */
err_t lan9118_netif_init(struct netif *netif);

void lan9118_stats_get(lan9118_stats_t *out);

/* The input task's handle and stack size (for its high-water mark). */
void *lan9118_input_task(void);
size_t lan9118_input_stack_words(void);

/* The vector table's entry for IRQ 13. */
void lan9118_irq_handler(void);

#endif /* FW_LAN9118_H */
