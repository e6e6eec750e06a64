/*
 * mps2_uart.c - chatwire transport over the CMSDK APB UART of QEMU
 * mps2-an386, polled, and a millisecond clock from CMSDK Timer0.
 */
#include "fw.h"

#include "chatwire.h"

#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))

/* CMSDK UART registers */
#define UART_DATA 0x00u
#define UART_STATE 0x04u
#define UART_CTRL 0x08u
#define UART_BAUDDIV 0x10u
#define STATE_TX_FULL 0x1u
#define STATE_RX_FULL 0x2u

/* CMSDK timer registers */
#define TIMER0 0x40000000u
#define TIMER_CTRL 0x00u
#define TIMER_VALUE 0x04u
#define TIMER_RELOAD 0x08u
#define TIMER_HZ 25000000u
#define TICKS_PER_MS (TIMER_HZ / 1000u)

/* Once a byte arrived, recv keeps collecting while bytes follow within this
 * gap: the host feeds the UART at ~20 KiB/s (a byte every ~50 us), and
 * mbedTLS asks for whole record headers and bodies. */
#define RX_GAP_MS 2u
/* Longest a recv waits for a first byte before returning 0 ("try again"). */
#define RX_POLL_MS 50u

/* ------------------------------------------------------------ clock */

static uint32_t clk_last;  /* last counter value read */
static uint32_t clk_ms;    /* milliseconds so far */
static uint32_t clk_rem;   /* ticks not yet a whole millisecond */

void fw_clock_init(void)
{
    REG(TIMER0, TIMER_CTRL) = 0u;
    REG(TIMER0, TIMER_RELOAD) = 0xFFFFFFFFu;
    REG(TIMER0, TIMER_VALUE) = 0xFFFFFFFFu;
    REG(TIMER0, TIMER_CTRL) = 1u; /* enable, no interrupt */
    clk_last = REG(TIMER0, TIMER_VALUE);
    clk_ms = 0;
    clk_rem = 0;
}

uint32_t fw_now_ms(void *ctx)
{
    uint32_t v = REG(TIMER0, TIMER_VALUE);
    uint32_t ticks = clk_last - v; /* counts down; period 2^32 ticks */
    (void)ctx;
    clk_last = v;
    clk_ms += ticks / TICKS_PER_MS;
    clk_rem += ticks % TICKS_PER_MS;
    if (clk_rem >= TICKS_PER_MS) {
        clk_rem -= TICKS_PER_MS;
        clk_ms++;
    }
    return clk_ms;
}

/* ------------------------------------------------------------ UART */

void fw_uart_init(fw_uart_t *u, uintptr_t base)
{
    u->base = base;
    u->rx_bytes = 0;
    u->tx_bytes = 0;
    REG(base, UART_BAUDDIV) = 16u;
    REG(base, UART_CTRL) = 0x3u; /* TX and RX enabled */
}

static int32_t uart_send(void *ctx, const uint8_t *buf, size_t len,
                         uint32_t timeout_ms)
{
    fw_uart_t *u = (fw_uart_t *)ctx;
    size_t i;
    (void)timeout_ms; /* the emulated UART drains at ~600 KiB/s */

    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    for (i = 0; i < len; i++) {
        while ((REG(u->base, UART_STATE) & STATE_TX_FULL) != 0u) {
        }
        REG(u->base, UART_DATA) = buf[i];
    }
    u->tx_bytes += (uint32_t)len;
    return (int32_t)len;
}

static int32_t uart_recv(void *ctx, uint8_t *buf, size_t len,
                         uint32_t timeout_ms)
{
    fw_uart_t *u = (fw_uart_t *)ctx;
    uint32_t start = fw_now_ms(NULL);
    uint32_t last = start;
    uint32_t wait = timeout_ms < RX_POLL_MS ? timeout_ms : RX_POLL_MS;
    size_t n = 0;

    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    while (n < len) {
        uint32_t now;
        if ((REG(u->base, UART_STATE) & STATE_RX_FULL) != 0u) {
            buf[n++] = (uint8_t)REG(u->base, UART_DATA);
            last = fw_now_ms(NULL);
            continue;
        }
        now = fw_now_ms(NULL);
        if (n > 0u ? now - last >= RX_GAP_MS : now - start >= wait) {
            break;
        }
    }
    u->rx_bytes += (uint32_t)n;
    return (int32_t)n; /* 0: nothing yet, try again */
}

static uint32_t uart_now(void *ctx)
{
    return fw_now_ms(ctx);
}

cw_transport_t fw_uart_transport(fw_uart_t *u)
{
    cw_transport_t t;
    t.ctx = u;
    t.connect = NULL; /* the host relay holds the connection */
    t.send = uart_send;
    t.recv = uart_recv;
    t.close = NULL;
    t.now_ms = uart_now;
    return t;
}
