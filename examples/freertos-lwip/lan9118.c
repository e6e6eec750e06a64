/*
 * lan9118.c - lwIP netif driver for the LAN9118 of QEMU mps2-an386. See
 * lan9118.h. Register facts: SMSC LAN9118 datasheet, as QEMU 7.2 models
 * them (measured, README.md).
 */
#include "lan9118.h"

#include <string.h>

#include "FreeRTOS.h"
#include "task.h"

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "netif/ethernet.h"

#include "board.h"

/* Registers, offsets from FW_LAN9118 */
#define RX_DATA_FIFO 0x00u
#define TX_DATA_FIFO 0x20u
#define RX_STATUS_FIFO 0x40u
#define TX_STATUS_FIFO 0x48u
#define ID_REV 0x50u
#define IRQ_CFG 0x54u
#define INT_STS 0x58u
#define INT_EN 0x5Cu
#define BYTE_TEST 0x64u
#define FIFO_INT 0x68u
#define RX_CFG 0x6Cu
#define TX_CFG 0x70u
#define HW_CFG 0x74u
#define RX_FIFO_INF 0x7Cu
#define TX_FIFO_INF 0x80u
#define PMT_CTRL 0x84u
#define MAC_CSR_CMD 0xA4u
#define MAC_CSR_DATA 0xA8u

#define REG(off) FW_REG(FW_LAN9118 + (off))

/* IRQ_CFG: enable the pin, active high, push-pull. At the reset value (0)
 * and with IRQ_EN alone, the pin is asserted while nothing is pending: the
 * NVIC then sees a permanent interrupt (measured). Written before IRQ 13 is
 * enabled. */
#define IRQ_CFG_ENABLE_HIGH_PUSHPULL 0x111u
#define INT_RSFL 0x00000008u /* RX status FIFO level reached */
/* FIFO_INT: RX status level 0 (RSFL once one frame is in), the TX data
 * level at its reset value. */
#define FIFO_INT_RX_ONE 0x48000000u
#define TX_CFG_ON 0x00000002u
#define TX_CFG_TXSAO 0x00000004u /* TX status overrun allowed */
#define HW_CFG_SRST 0x1u
#define PMT_READY 0x1u

/* MAC CSRs (through MAC_CSR_CMD/DATA) */
#define MAC_CSR_BUSY 0x80000000u
#define MAC_CSR_READ 0x40000000u
#define MAC_CR 1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
/* full duplex, TX and RX on; own address and broadcast (BCAST clear);
 * not promiscuous (the reset value is) */
#define MAC_CR_RUN 0x0010000Cu

/* RX status word */
#define RXS_LEN(s) (((s) >> 16) & 0x3FFFu) /* with the 4-byte CRC */
#define RXS_ERROR 0x00008000u
/* TX command A / B */
#define TXA_FIRST 0x00002000u
#define TXA_LAST 0x00001000u
#define TXA_OFFSET_SHIFT 16u
#define TXS_ERROR 0x00008000u

#define FRAME_MAX 1514u /* without CRC */
#define FRAME_MIN 14u
#define CRC_LEN 4u
#define SPIN_LIMIT 100000u /* register polls before giving up */

#define INPUT_TASK_PRIO 4u /* below tcpip (5): see lwipopts.h */
#define INPUT_TASK_STACK_WORDS 256u

static TaskHandle_t input_task;
static lan9118_stats_t stats;
static uint16_t tx_tag;

static int mac_csr_wait(void)
{
    uint32_t n;
    for (n = 0; n < SPIN_LIMIT; n++) {
        if ((REG(MAC_CSR_CMD) & MAC_CSR_BUSY) == 0u) {
            return 0;
        }
    }
    return -1;
}

static uint32_t mac_csr_read(uint32_t index)
{
    (void)mac_csr_wait();
    REG(MAC_CSR_CMD) = MAC_CSR_BUSY | MAC_CSR_READ | index;
    (void)mac_csr_wait();
    return REG(MAC_CSR_DATA);
}

static void mac_csr_write(uint32_t index, uint32_t value)
{
    (void)mac_csr_wait();
    REG(MAC_CSR_DATA) = value;
    REG(MAC_CSR_CMD) = MAC_CSR_BUSY | index;
    (void)mac_csr_wait();
}

static uint32_t rx_pending(void)
{
    return (REG(RX_FIFO_INF) >> 16) & 0xFFu; /* status words = frames */
}

/* Reads and drops n words of the RX data FIFO. (The model's RX_DP_CTRL
 * fast-forward does not free FIFO space, so words are read out.) */
static void rx_discard(uint32_t words)
{
    while (words-- > 0u) {
        (void)REG(RX_DATA_FIFO);
    }
}

/* Copies one frame of len bytes (whole FIFO words, little-endian) into the
 * pbuf chain p; returns the words read. */
static uint32_t rx_copy(struct pbuf *p)
{
    uint32_t words = 0;
    uint32_t word = 0;
    uint32_t have = 0; /* bytes of word not yet stored */
    struct pbuf *q;

    for (q = p; q != NULL; q = q->next) {
        uint8_t *dst = (uint8_t *)q->payload;
        uint32_t n = q->len;
        while (n > 0u) {
            if (have == 0u && n >= 4u && ((uintptr_t)dst & 3u) == 0u) {
                *(uint32_t *)(void *)dst = REG(RX_DATA_FIFO);
                words++;
                dst += 4;
                n -= 4u;
                continue;
            }
            if (have == 0u) {
                word = REG(RX_DATA_FIFO);
                words++;
                have = 4u;
            }
            *dst++ = (uint8_t)word;
            word >>= 8;
            have--;
            n--;
        }
    }
    return words;
}

/* Hands every frame waiting in the FIFOs to lwIP; returns how many. */
static uint32_t rx_drain(struct netif *netif)
{
    uint32_t frames = 0;

    while (rx_pending() > 0u) {
        uint32_t status = REG(RX_STATUS_FIFO);
        uint32_t len = RXS_LEN(status);
        uint32_t words = (len + 3u) / 4u;
        struct pbuf *p;

        frames++;
        if ((status & RXS_ERROR) != 0u || len < FRAME_MIN + CRC_LEN ||
            len > FRAME_MAX + CRC_LEN) {
            stats.rx_errors++;
            LINK_STATS_INC(link.err);
            rx_discard(words);
            continue;
        }
        p = pbuf_alloc(PBUF_RAW, (u16_t)(len - CRC_LEN), PBUF_POOL);
        if (p == NULL) {
            stats.rx_no_pbuf++;
            LINK_STATS_INC(link.memerr);
            LINK_STATS_INC(link.drop);
            rx_discard(words);
            continue;
        }
        rx_discard(words - rx_copy(p)); /* the CRC and the padding */
        stats.rx_frames++;
        stats.rx_bytes += len - CRC_LEN;
        LINK_STATS_INC(link.recv);
        if (netif->input(p, netif) != ERR_OK) {
            stats.rx_refused++;
            LINK_STATS_INC(link.drop);
            pbuf_free(p);
        }
    }
    return frames;
}

static void input_task_main(void *arg)
{
    struct netif *netif = (struct netif *)arg;

    for (;;) {
        uint32_t batch = 0;
        (void)ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
        /* Clear RSFL, then drain: a frame that arrives after the clear sets
         * it again, and the line (level) fires as soon as INT_EN is back. */
        do {
            REG(INT_STS) = INT_RSFL;
            batch += rx_drain(netif);
        } while (rx_pending() > 0u);
        if (batch > stats.rx_max_batch) {
            stats.rx_max_batch = batch;
        }
        REG(INT_EN) = INT_RSFL;
    }
}

void lan9118_irq_handler(void)
{
    BaseType_t woken = pdFALSE;
    uint32_t pending = REG(INT_STS) & REG(INT_EN);

    stats.irqs++;
    if ((pending & INT_RSFL) != 0u) {
        /* The line is level-triggered: mask the source until the input
         * task has drained the FIFO, or the interrupt fires again and
         * again. */
        REG(INT_EN) = 0u;
        if (input_task != NULL) {
            vTaskNotifyGiveFromISR(input_task, &woken);
        }
    }
    REG(INT_STS) = pending & ~INT_RSFL; /* nothing else is enabled */
    portYIELD_FROM_ISR(woken);
}

/* linkoutput: one frame, each pbuf of the chain a TX buffer of its own
 * (command A gives its start offset within the first word, so payloads
 * need no alignment and no copy). Called with lwIP's core lock held. */
static err_t lan9118_output(struct netif *netif, struct pbuf *p)
{
    const struct pbuf *q;
    const struct pbuf *last = NULL;
    uint32_t need = 0;
    uint32_t n;
    uint16_t tag;

    (void)netif;
    if (p->tot_len > FRAME_MAX) {
        stats.tx_errors++;
        LINK_STATS_INC(link.err);
        return ERR_IF;
    }
    for (q = p; q != NULL; q = q->next) {
        if (q->len > 0u) {
            uint32_t off = (uint32_t)(uintptr_t)q->payload & 3u;
            need += 8u + ((off + q->len + 3u) & ~3u); /* commands + data */
            last = q;
        }
    }
    if (last == NULL) {
        return ERR_OK;
    }
    for (n = 0; (REG(TX_FIFO_INF) & 0xFFFFu) < need; n++) {
        if (n == SPIN_LIMIT) {
            stats.tx_no_space++;
            LINK_STATS_INC(link.drop);
            return ERR_IF;
        }
    }
    tag = ++tx_tag;
    for (q = p; q != NULL; q = q->next) {
        uint32_t off;
        const uint32_t *src;
        uint32_t words;
        uint32_t a;
        if (q->len == 0u) {
            continue;
        }
        off = (uint32_t)(uintptr_t)q->payload & 3u;
        src = (const uint32_t *)(const void *)((uintptr_t)q->payload - off);
        words = (off + q->len + 3u) / 4u;
        a = (off << TXA_OFFSET_SHIFT) | q->len;
        if (q == p) {
            a |= TXA_FIRST;
        }
        if (q == last) {
            a |= TXA_LAST;
        }
        REG(TX_DATA_FIFO) = a;
        REG(TX_DATA_FIFO) = ((uint32_t)tag << 16) | p->tot_len;
        while (words-- > 0u) {
            REG(TX_DATA_FIFO) = *src++; /* whole words: the bytes around the
                                           payload are skipped by the MAC */
        }
        if (q == last) {
            break;
        }
    }
    /* TX status words of the frames sent so far (one per frame) */
    while (((REG(TX_FIFO_INF) >> 16) & 0xFFu) > 0u) {
        if ((REG(TX_STATUS_FIFO) & TXS_ERROR) != 0u) {
            stats.tx_errors++;
            LINK_STATS_INC(link.err);
        }
    }
    stats.tx_frames++;
    stats.tx_bytes += p->tot_len;
    LINK_STATS_INC(link.xmit);
    return ERR_OK;
}

static int hw_init(uint8_t mac[6])
{
    uint32_t n;
    uint32_t lo;
    uint32_t hi;

    if (REG(BYTE_TEST) != 0x87654321u || (REG(ID_REV) >> 16) != 0x0118u) {
        return -1;
    }
    REG(HW_CFG) = HW_CFG_SRST;
    for (n = 0; (REG(HW_CFG) & HW_CFG_SRST) != 0u; n++) {
        if (n == SPIN_LIMIT) {
            return -1;
        }
    }
    for (n = 0; (REG(PMT_CTRL) & PMT_READY) == 0u; n++) {
        if (n == SPIN_LIMIT) {
            return -1;
        }
    }
    lo = mac_csr_read(MAC_ADDRL);
    hi = mac_csr_read(MAC_ADDRH);
    mac[0] = (uint8_t)lo;
    mac[1] = (uint8_t)(lo >> 8);
    mac[2] = (uint8_t)(lo >> 16);
    mac[3] = (uint8_t)(lo >> 24);
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);

    REG(INT_EN) = 0u;
    REG(INT_STS) = 0xFFFFFFFFu;
    REG(IRQ_CFG) = IRQ_CFG_ENABLE_HIGH_PUSHPULL;
    REG(FIFO_INT) = FIFO_INT_RX_ONE;
    REG(RX_CFG) = 0u; /* no offset, no end padding */
    REG(TX_CFG) = TX_CFG_ON | TX_CFG_TXSAO;
    mac_csr_write(MAC_CR, MAC_CR_RUN);
    return 0;
}

err_t lan9118_netif_init(struct netif *netif)
{
    uint32_t irq = FW_LAN9118_IRQ;

    if (hw_init(netif->hwaddr) != 0) {
        return ERR_IF;
    }
    netif->hwaddr_len = ETH_HWADDR_LEN;
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
                   NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    netif->output = etharp_output;
    netif->linkoutput = lan9118_output;

    if (xTaskCreate(input_task_main, "eth_in", INPUT_TASK_STACK_WORDS, netif,
                    INPUT_TASK_PRIO, &input_task) != pdPASS) {
        return ERR_MEM;
    }
    /* The handler calls FromISR functions: its priority value must not be
     * below configMAX_SYSCALL_INTERRUPT_PRIORITY (0xA0). */
    FW_NVIC_IPR8(irq) = 0xC0u;
    FW_NVIC_ICPR(irq / 32u) = 1u << (irq % 32u);
    FW_NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
    REG(INT_EN) = INT_RSFL;
    return ERR_OK;
}

void lan9118_stats_get(lan9118_stats_t *out)
{
    taskENTER_CRITICAL();
    *out = stats;
    taskEXIT_CRITICAL();
}

void *lan9118_input_task(void)
{
    return input_task;
}

size_t lan9118_input_stack_words(void)
{
    return INPUT_TASK_STACK_WORDS;
}
