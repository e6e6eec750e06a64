/*
 * startup.c - reset, vector table and the ways a run ends, for FreeRTOS on
 * QEMU mps2-an386 (Cortex-M4F).
 *
 * Reset: copy .data, zero .bss, paint the main stack (fw_stack_peak), enable
 * the FPU, main(). The vector table holds FreeRTOS's SVC, PendSV and SysTick
 * handlers directly (V11 checks that at vTaskStartScheduler) and the LAN9118
 * handler at IRQ 13. Faults, FreeRTOS assertions, stack overflows and heap
 * exhaustion print one line and end the emulation with a distinct exit
 * status, so that a test sees them as failures and never as a hang.
 */
#include "board.h"

#include <stdio.h>
#include <string.h>

#include "FreeRTOS.h"
#include "task.h"

#include "fw.h" /* examples/qemu-mps2: the stack painting */
#include "lan9118.h"
#include "lwipopts.h"

#define IRQ_COUNT 32u

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern uint32_t _estack[];

extern int main(void);

extern void vPortSVCHandler(void);
extern void xPortPendSVHandler(void);
extern void xPortSysTickHandler(void);

void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);

__attribute__((section(".isr_vector"), used))
static void (*const vectors[16u + IRQ_COUNT])(void) = {
    (void (*)(void))(uintptr_t)_estack, /* initial MSP; the port reads it
                                           back from here */
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler,
    HardFault_Handler, /* MemManage */
    HardFault_Handler, /* BusFault */
    HardFault_Handler, /* UsageFault */
    0, 0, 0, 0,
    vPortSVCHandler,
    Default_Handler,   /* DebugMon */
    0,
    xPortPendSVHandler,
    xPortSysTickHandler,
    /* IRQ 0..31: only the LAN9118's is used */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, lan9118_irq_handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,
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
    fw_stack_paint(); /* examples/qemu-mps2/stack.c */
    /* CPACR: full access to CP10 and CP11 (the FPU), before any float
     * instruction and before the port's lazy stacking needs it */
    FW_REG(0xE000ED88u) |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    fw_exit(main());
}

/* Semihosting SYS_EXIT_EXTENDED: on 32-bit ARM only this call carries a
 * status (plain SYS_EXIT ends QEMU with 0 for an application exit). Not
 * rdimon's _exit: it picks the extended call only after
 * initialise_monitor_handles, whose ":tt" console, with -nographic, stalls
 * the UART0 output on the same stdio. */
void fw_exit(int code)
{
    static uint32_t block[2];
    register uint32_t r0 __asm__("r0") = 0x20u; /* SYS_EXIT_EXTENDED */
    register uint32_t *r1 __asm__("r1") = block;
    block[0] = 0x20026u; /* ADP_Stopped_ApplicationExit */
    block[1] = (uint32_t)code;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}

/* Fault paths print without the console mutex: the scheduler may be
 * anywhere, and nothing runs after them. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    static char line[200];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0) {
        fw_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1u);
    }
}

/* the last caller of lwIP's core-lock check (lwipopts.h) */
static const char *core_site_file;
static int core_site_line;

void fw_check_core_locked(const char *file, int line)
{
    core_site_file = file;
    core_site_line = line;
    sys_check_core_locking();
}

void fw_panic(const char *what, const char *detail, const char *file,
              int line)
{
    __asm__ volatile("cpsid i" ::: "memory");
    say("\nfw: PANIC %s%s%s at %s:%d\n", what, detail != NULL ? ": " : "",
        detail != NULL ? detail : "", file, line);
    if (core_site_file != NULL) {
        say("fw: last lwIP core-lock check from %s:%d\n", core_site_file,
            core_site_line);
    }
    fw_exit(3);
}

void fw_freertos_assert(const char *file, int line)
{
    fw_panic("FreeRTOS assertion", NULL, file, line);
}

void vApplicationStackOverflowHook(TaskHandle_t task, char *name);
void vApplicationStackOverflowHook(TaskHandle_t task, char *name)
{
    (void)task;
    fw_panic("stack overflow in task", name, __FILE__, __LINE__);
}

void vApplicationMallocFailedHook(void);
void vApplicationMallocFailedHook(void)
{
    fw_panic("FreeRTOS heap exhausted", NULL, __FILE__, __LINE__);
}

/* newlib's malloc gets its memory from _sbrk (linked with --wrap=_sbrk).
 * Nothing in this firmware may call it: memory is static or FreeRTOS's, and
 * newlib's allocations (printf to a stream, rand, gmtime, strtod with big
 * numbers...) are not task-safe; with rdimon's _sbrk they even fail in a
 * task, which runs on a stack below the heap's end ("REENT malloc
 * succeeded"). Ending the run here shows which path did it. */
void *__wrap__sbrk(ptrdiff_t incr);
void *__wrap__sbrk(ptrdiff_t incr)
{
    const uint32_t *sp;
    unsigned n = 0;
    unsigned i;
    (void)incr;
    /* the words on the stack that look like Thumb return addresses: enough
     * to find the caller with addr2line */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    say("\nfw: _sbrk called from (stack words in .text):");
    for (i = 0; i < 256u && n < 12u && (uintptr_t)(sp + i) < (uintptr_t)_estack;
         i++) {
        if ((sp[i] & 1u) != 0u && sp[i] < (uint32_t)(uintptr_t)_sidata) {
            say(" 0x%08lx", (unsigned long)(sp[i] & ~1u));
            n++;
        }
    }
    say("\n");
    fw_panic("newlib malloc called (_sbrk)", NULL, __FILE__, __LINE__);
}

/* r0: the stacked frame (MSP or PSP, whichever was in use). */
void fw_fault_report(const uint32_t *frame);
void fw_fault_report(const uint32_t *frame)
{
    say("\nfw: PANIC HardFault pc=0x%08lx lr=0x%08lx cfsr=0x%08lx "
        "hfsr=0x%08lx bfar=0x%08lx\n",
        (unsigned long)frame[6], (unsigned long)frame[5],
        (unsigned long)FW_REG(0xE000ED28u), (unsigned long)FW_REG(0xE000ED2Cu),
        (unsigned long)FW_REG(0xE000ED38u));
    fw_exit(3);
}

__attribute__((naked)) void HardFault_Handler(void)
{
    __asm__ volatile("tst lr, #4\n\t"
                     "ite eq\n\t"
                     "mrseq r0, msp\n\t"
                     "mrsne r0, psp\n\t"
                     "b fw_fault_report\n");
}

void Default_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    say("\nfw: PANIC unexpected exception %lu\n", (unsigned long)ipsr);
    fw_exit(4);
}
