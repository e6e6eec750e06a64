/*
 * startup.c - reset handler, vector table and stack painting for QEMU
 * mps2-an386 (Cortex-M4F).
 *
 * Reset: copy .data, zero .bss, paint the unused stack with a pattern
 * (stack.c: fw_stack_peak()), enable the FPU, set up semihosting and the
 * C library, run main() and exit through semihosting with its result (QEMU's
 * exit status).
 */
#include "fw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern uint32_t _estack[];

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

    for (p = _sdata; p < _edata; p++) {
        *p = _sidata[p - _sdata];
    }
    for (p = _sbss; p < _ebss; p++) {
        *p = 0;
    }
    fw_stack_paint();
    /* CPACR: full access to CP10 and CP11 (the FPU) */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    initialise_monitor_handles();
    __libc_init_array();
    exit(main());
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
