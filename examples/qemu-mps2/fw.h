/*
 * fw.h - pieces of the QEMU mps2-an386 example firmware: the CMSDK UART0
 * transport, the timer clock, semihosting, stack measurement and the
 * TEST-ONLY entropy source.
 */
#ifndef CW_FW_H
#define CW_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chatwire_transport.h"

/* ------------------------------------------------------------ UART0 */

/* A cw_transport_t over the CMSDK APB UART, polled (no interrupts). On the
 * host side, QEMU connects the UART to a TCP relay (uart_relay.py) that
 * forwards to the TLS server, so the UART carries the raw TLS byte stream.
 * With a control UART (ctl, 0x40005000 for UART1) the transport has a
 * connect and a close: the relay opens a new TCP connection to the server
 * when the firmware asks, closes it when told, and says when the server
 * closed it (mps2_uart.c has the protocol). Without one (ctl 0) there is no
 * connect/close: the relay holds the one connection, and recv cannot tell
 * that the peer closed it. */
typedef struct fw_uart {
    uintptr_t base;      /* 0x40004000 for UART0: the data */
    uintptr_t ctl;       /* 0x40005000 for UART1: the control line, or 0 */
    uint32_t rx_bytes;
    uint32_t tx_bytes;
    uint64_t busy_ticks; /* Timer0 ticks spent inside this driver */
    uint32_t connections;/* opened so far */
    uint32_t conn_rx;    /* bytes received on the current connection */
    uint32_t eof_at;     /* the server closed after this many (eof) */
    bool open;
    bool eof;
    uint8_t ctl_len;
    char ctl_line[16];
} fw_uart_t;

void fw_uart_init(fw_uart_t *u, uintptr_t base, uintptr_t ctl);
cw_transport_t fw_uart_transport(fw_uart_t *u);

/* ------------------------------------------------------------ clock */

/* Milliseconds since fw_clock_init(), from CMSDK Timer0 (25 MHz, free
 * running, 32-bit). Must be called at least every 171 s to see every
 * wrap of the counter (the client and mbedTLS call it far more often). */
void fw_clock_init(void);
uint32_t fw_now_ms(void *ctx);
/* Timer0 ticks since fw_clock_init(), 64-bit (call at least every 171 s).
 * Under QEMU -icount shift=0 one tick is exactly 40 guest instructions
 * (scripts/mcu-cost.sh checks it with a loop of known length). */
uint64_t fw_ticks(void);

/* ------------------------------------------------------------ semihosting */

void fw_semihost_write0(const char *s);
/* The QEMU semihosting command line (-semihosting-config arg=...), NUL
 * terminated, or "" when there is none. */
const char *fw_semihost_cmdline(char *buf, size_t size);
/* A host file through semihosting, where a device would use its flash:
 * reads the whole of path into buf[0..cap) (its length, or -1 when it
 * cannot be read or is larger than cap); writes data as the whole file,
 * created or truncated (0, or -1). Paths are the host's, relative to
 * QEMU's working directory. */
long fw_semihost_file_read(const char *path, uint8_t *buf, size_t cap);
int fw_semihost_file_write(const char *path, const uint8_t *data, size_t len);
/* Splits the next space-separated word off *s (NUL-terminating it in
 * place); NULL when only spaces are left. */
char *fw_next_word(char **s);

/* ------------------------------------------------------------ stack */

/* stack.c: fw_stack_paint, called once by the reset handler, fills the
 * unused main stack with a pattern; fw_stack_peak is then the deepest use
 * since. */
void fw_stack_paint(void);
size_t fw_stack_peak(void);
size_t fw_stack_size(void);

/* ------------------------------------------------------------ entropy */

/*
 * INSECURE, TEST ONLY. QEMU's mps2-an386 has no TRNG, so for the emulator
 * this reads the HOST's /dev/urandom through semihosting. Semihosting is a
 * debugger channel: on real hardware it halts the CPU or reads whatever the
 * attached debugger answers, so this function gives no security at all
 * outside the emulator. It must never be linked into a product: use the
 * MCU's TRNG behind the cw_tls_mcu_entropy_fn contract (cw_tls_mcu.h).
 * Returns 0 when len bytes were written, -1 otherwise (never partial).
 */
int cw_insecure_test_entropy(void *ctx, uint8_t *out, size_t len);

#endif /* CW_FW_H */
