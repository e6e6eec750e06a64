/*
 * board.h - QEMU mps2-an386 (Cortex-M4F) as this firmware uses it: the
 * addresses and interrupt numbers (measured, see README.md), the console,
 * the free-running timer and the ways out (exit, panic).
 */
#ifndef FW_BOARD_H
#define FW_BOARD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define FW_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* CMSDK APB UART0: the console (QEMU -nographic puts it on stdout). */
#define FW_UART0 0x40004000u
/* CMSDK Timer0: free-running, counts down at 25 MHz of emulated time. */
#define FW_TIMER0 0x40000000u
#define FW_TIMER_HZ 25000000u
/* SMSC LAN9118 (a LAN9220 on the real board), NVIC IRQ 13. */
#define FW_LAN9118 0x40200000u
#define FW_LAN9118_IRQ 13u

/* NVIC */
#define FW_NVIC_ISER(n) FW_REG(0xE000E100u + 4u * (n))
#define FW_NVIC_ICPR(n) FW_REG(0xE000E280u + 4u * (n))
#define FW_NVIC_IPR8(irq) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (irq)))

/* ---------------------------------------------------------- console */

/* UART0, polled. fw_printf formats into a static buffer under a mutex once
 * the scheduler runs (newlib's vsnprintf on a string: no malloc, no stdio
 * stream), so any task may call it; never from an interrupt. Lines longer
 * than the buffer (256 bytes) are cut. fw_write sends bytes as they are. */
void fw_console_init(void);
void fw_console_start_locking(void); /* once, before the scheduler starts */
void fw_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fw_write(const char *s, size_t len);

/* ---------------------------------------------------------- time */

/* Timer0 ticks (25 MHz, 40 ns each) since fw_timer_init, 32 bits (wraps
 * after 171 s: differences stay right across one wrap). */
void fw_timer_init(void);
uint32_t fw_timer_ticks(void);

/* ---------------------------------------------------------- exits */

/* Ends the emulation with code (QEMU's exit status), through semihosting.
 * Flushes nothing: the console is unbuffered. */
void fw_exit(int code) __attribute__((noreturn));
/* Prints "fw: PANIC what [detail] at file:line" and exits with 3. */
void fw_panic(const char *what, const char *detail, const char *file,
              int line) __attribute__((noreturn));

/* ---------------------------------------------------------- random */

/* Not for security: lwIP's port numbers, DNS ids and TCP sequence numbers
 * (xorshift32), seeded once at boot. */
void fw_rand_seed(uint32_t seed);
uint32_t fw_rand(void);

#endif /* FW_BOARD_H */
