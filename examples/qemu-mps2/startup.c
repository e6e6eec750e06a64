/*
 * startup.c - reset handler, vector table and stack painting for QEMU
 * mps2-an386 (Cortex-M4F).
 *
 * Reset: copy .data, zero .bss, paint the unused stack with a pattern
 * (measured by fw_stack_peak()), enable the FPU, set up semihosting and the
 * C library, run main() and exit through semihosting with its result (QEMU's
 * exit status).
 */
#include "fw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STACK_PAINT 0xC5C5C5C5u

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern uint32_t _sstack[], _estack[];

extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);

void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);

/* newlib's __libc_init_array calls these; crti.o is not linked
 * (-nostartfiles). */
void _init(void);
void _fini(void);
void _init(void) {}
void _fini(void) {}

__attribute__((section(".isr_vector"), used))
static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)_estack, /* initial SP */
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler,
    HardFault_Handler, /* MemManage */
    HardFault_Handler, /* BusFault */
    HardFault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,   /* SVCall */
    Default_Handler,   /* DebugMon */
    0,
    Default_Handler,   /* PendSV */
    Default_Handler,   /* SysTick */
};

void Reset_Handler(void)
{
    uint32_t *p;
    uint32_t sp;

    for (p = _sdata; p < _edata; p++) {
        *p = _sidata[p - _sdata];
    }
    for (p = _sbss; p < _ebss; p++) {
        *p = 0;
    }
    /* paint from the bottom of the stack to just below the current frame */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = _sstack; (uintptr_t)p < sp - 64u; p++) {
        *p = STACK_PAINT;
    }
    /* CPACR: full access to CP10 and CP11 (the FPU) */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    initialise_monitor_handles();
    __libc_init_array();
    exit(main());
}

size_t fw_stack_peak(void)
{
    const uint32_t *p = _sstack;
    while (p < _estack && *p == STACK_PAINT) {
        p++;
    }
    return (size_t)((uintptr_t)_estack - (uintptr_t)p);
}

size_t fw_stack_size(void)
{
    return (size_t)((uintptr_t)_estack - (uintptr_t)_sstack);
}

void HardFault_Handler(void)
{
    /* a semihosting exit gives a clean QEMU exit status (a bkpt would make
     * QEMU abort) */
    fw_semihost_write0("chatwire-mps2: HardFault\n");
    _Exit(3);
}

void Default_Handler(void)
{
    fw_semihost_write0("chatwire-mps2: unexpected exception\n");
    _Exit(4);
}
