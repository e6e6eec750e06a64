/*
 * mps2_uart.c - chatwire transport over the CMSDK APB UART of QEMU
 * mps2-an386, polled, a millisecond clock and an instruction clock from
 * CMSDK Timer0.
 *
 * UART0 carries the TLS byte stream; UART1 is the control line to the host
 * relay (uart_relay.py), which holds the TCP connection to the server:
 *
 *   firmware -> relay  "C<16 hex>\n"  open a new connection (closing the
 *                                      current one); the 8 bytes in hex are
 *                                      a marker, sent on UART0 as well
 *                      "X\n"           close the connection
 *   relay -> firmware  "F\n"           the connection to the server failed
 *                      "E<n>\n"        the server closed the connection
 *                                      after sending n bytes on it
 *
 * The marker makes each connection start at a known byte in both
 * directions, whatever the two sockets (UART0, UART1) deliver first: the
 * relay drops what the firmware sent on UART0 before the marker (the end of
 * the last connection) and forwards what follows; it writes the marker on
 * UART0 once it is connected to the server, and the firmware drops what it
 * reads before it (the last connection's tail).
 */
#include "fw.h"

#include "chatwire.h"

#include <string.h>

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
#define TIMER1 0x40001000u
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
static uint32_t tick_last; /* the same counter, for fw_ticks */
static uint64_t tick_total;

void fw_clock_init(void)
{
    REG(TIMER0, TIMER_CTRL) = 0u;
    REG(TIMER0, TIMER_RELOAD) = 0xFFFFFFFFu;
    REG(TIMER0, TIMER_VALUE) = 0xFFFFFFFFu;
    REG(TIMER0, TIMER_CTRL) = 1u; /* enable, no interrupt */
    /* Timer1 wraps every millisecond, with its interrupt off: it costs
     * the firmware no instruction, and its expiries give an emulator with
     * no other timer (QEMU under -icount, -nic none) a deadline, at which
     * it reads the UART sockets. */
    REG(TIMER1, TIMER_CTRL) = 0u;
    REG(TIMER1, TIMER_RELOAD) = TICKS_PER_MS - 1u;
    REG(TIMER1, TIMER_VALUE) = TICKS_PER_MS - 1u;
    REG(TIMER1, TIMER_CTRL) = 1u;
    clk_last = REG(TIMER0, TIMER_VALUE);
    tick_last = clk_last;
    tick_total = 0;
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

uint64_t fw_ticks(void)
{
    uint32_t v = REG(TIMER0, TIMER_VALUE);
    tick_total += (uint32_t)(tick_last - v);
    tick_last = v;
    return tick_total;
}

/* ------------------------------------------------------------ UART */

static void uart_setup(uintptr_t base)
{
    REG(base, UART_BAUDDIV) = 16u;
    REG(base, UART_CTRL) = 0x3u; /* TX and RX enabled */
}

void fw_uart_init(fw_uart_t *u, uintptr_t base, uintptr_t ctl)
{
    u->base = base;
    u->ctl = ctl;
    u->rx_bytes = 0;
    u->tx_bytes = 0;
    u->busy_ticks = 0;
    u->connections = 0;
    u->conn_rx = 0;
    u->eof_at = 0;
    u->open = false;
    u->eof = false;
    u->ctl_len = 0;
    uart_setup(base);
    if (ctl != 0u) {
        uart_setup(ctl);
    }
}

static void put_byte(uintptr_t base, uint8_t b)
{
    while ((REG(base, UART_STATE) & STATE_TX_FULL) != 0u) {
    }
    REG(base, UART_DATA) = b;
}

static void put_str(uintptr_t base, const char *s)
{
    while (*s != '\0') {
        put_byte(base, (uint8_t)*s++);
    }
}

/* Reads what the relay said on the control line: "F\n" (the connection
 * failed) or "E<n>\n" (closed after n bytes). Returns 'F' for a failure,
 * else 0. */
static char ctl_poll(fw_uart_t *u)
{
    char said = 0;

    if (u->ctl == 0u) {
        return 0;
    }
    while ((REG(u->ctl, UART_STATE) & STATE_RX_FULL) != 0u) {
        char ch = (char)REG(u->ctl, UART_DATA);
        if (ch != '\n') {
            if (u->ctl_len < sizeof u->ctl_line - 1u) {
                u->ctl_line[u->ctl_len++] = ch;
            }
            continue;
        }
        u->ctl_line[u->ctl_len] = '\0';
        if (u->ctl_line[0] == 'F') {
            said = 'F';
        } else if (u->ctl_line[0] == 'E') {
            uint32_t n = 0;
            const char *p = u->ctl_line + 1;
            while (*p >= '0' && *p <= '9') {
                n = n * 10u + (uint32_t)(*p++ - '0');
            }
            u->eof = true;
            u->eof_at = n;
        }
        u->ctl_len = 0;
    }
    return said;
}

static int uart_connect(void *ctx, const char *host, size_t host_len,
                        uint16_t port, uint32_t timeout_ms)
{
    static const char hex[] = "0123456789abcdef";
    fw_uart_t *u = (fw_uart_t *)ctx;
    uint64_t t0 = fw_ticks();
    uint32_t start = fw_now_ms(NULL);
    uint8_t marker[8];
    uint8_t seen[8] = { 0 };
    char line[20];
    size_t i;
    int rc = CW_ERR_TIMEOUT;
    (void)host;
    (void)host_len;
    (void)port; /* the relay knows the server */

    if (u->ctl == 0u || cw_insecure_test_entropy(NULL, marker, sizeof marker)
                            != 0) {
        return CW_ERR_CONNECT;
    }
    line[0] = 'C';
    for (i = 0; i < sizeof marker; i++) {
        line[1u + 2u * i] = hex[marker[i] >> 4];
        line[2u + 2u * i] = hex[marker[i] & 15u];
    }
    line[17] = '\n';
    line[18] = '\0';
    (void)ctl_poll(u); /* what is left of the last connection */
    u->open = false;
    u->eof = false;
    put_str(u->ctl, line);
    for (i = 0; i < sizeof marker; i++) {
        put_byte(u->base, marker[i]);
    }
    /* drop what arrives before the marker: the last connection's tail */
    while (fw_now_ms(NULL) - start < timeout_ms) {
        if ((REG(u->base, UART_STATE) & STATE_RX_FULL) != 0u) {
            uint8_t b = (uint8_t)REG(u->base, UART_DATA);
            for (i = 0; i + 1u < sizeof seen; i++) {
                seen[i] = seen[i + 1u];
            }
            seen[sizeof seen - 1u] = b;
            if (memcmp(seen, marker, sizeof marker) == 0) {
                rc = CW_OK;
                break;
            }
        } else if (ctl_poll(u) == 'F') {
            rc = CW_ERR_CONNECT;
            break;
        }
    }
    if (rc == CW_OK) {
        u->open = true;
        u->conn_rx = 0;
        u->connections++;
    }
    u->busy_ticks += fw_ticks() - t0;
    return rc;
}

static void uart_close(void *ctx)
{
    fw_uart_t *u = (fw_uart_t *)ctx;
    uint64_t t0 = fw_ticks();

    if (u->open && u->ctl != 0u) {
        put_str(u->ctl, "X\n");
    }
    u->open = false;
    u->busy_ticks += fw_ticks() - t0;
}

static int32_t uart_send(void *ctx, const uint8_t *buf, size_t len,
                         uint32_t timeout_ms)
{
    fw_uart_t *u = (fw_uart_t *)ctx;
    uint64_t t0 = fw_ticks();
    size_t i;
    (void)timeout_ms; /* the emulated UART drains at ~600 KiB/s */

    if (u->ctl != 0u && !u->open) {
        return CW_ERR_CLOSED;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    for (i = 0; i < len; i++) {
        put_byte(u->base, buf[i]);
    }
    u->tx_bytes += (uint32_t)len;
    u->busy_ticks += fw_ticks() - t0;
    return (int32_t)len;
}

static int32_t uart_recv(void *ctx, uint8_t *buf, size_t len,
                         uint32_t timeout_ms)
{
    fw_uart_t *u = (fw_uart_t *)ctx;
    uint64_t t0 = fw_ticks();
    uint32_t start = fw_now_ms(NULL);
    uint32_t last = start;
    uint32_t wait = timeout_ms < RX_POLL_MS ? timeout_ms : RX_POLL_MS;
    size_t n = 0;
    int32_t rc;

    if (u->ctl != 0u && !u->open) {
        return CW_ERR_CLOSED;
    }
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
        (void)ctl_poll(u);
        if (u->eof && u->conn_rx + n >= u->eof_at) {
            break; /* the server closed, and every byte it sent is here */
        }
        now = fw_now_ms(NULL);
        if (n > 0u ? now - last >= RX_GAP_MS : now - start >= wait) {
            break;
        }
    }
    u->rx_bytes += (uint32_t)n;
    u->conn_rx += (uint32_t)n;
    rc = (int32_t)n; /* 0: nothing yet, try again */
    if (n == 0u && u->eof && u->conn_rx >= u->eof_at) {
        rc = CW_ERR_CLOSED;
    }
    u->busy_ticks += fw_ticks() - t0;
    return rc;
}

static uint32_t uart_now(void *ctx)
{
    return fw_now_ms(ctx);
}

cw_transport_t fw_uart_transport(fw_uart_t *u)
{
    cw_transport_t t;
    memset(&t, 0, sizeof t); /* the optional members too */
    t.ctx = u;
    /* without a control line the relay holds the one connection */
    t.connect = u->ctl != 0u ? uart_connect : NULL;
    t.send = uart_send;
    t.recv = uart_recv;
    t.close = u->ctl != 0u ? uart_close : NULL;
    t.now_ms = uart_now;
    return t;
}
