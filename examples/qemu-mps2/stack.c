/*
 * stack.c - how deep the main stack has been, by painting: the reset
 * handler fills the unused stack with a pattern, and the deepest word no
 * longer holding it marks the peak. The stack is the top FW_STACK_SIZE
 * bytes of SRAM (mps2_an386.ld: _sstack to _estack).
 */
#include "fw.h"

#define STACK_PAINT 0xC5C5C5C5u

extern uint32_t _sstack[], _estack[];

void fw_stack_paint(void)
{
    uint32_t *p;
    uint32_t sp;

    /* from the bottom of the stack to just below the current frame */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = _sstack; (uintptr_t)p < sp - 64u; p++) {
        *p = STACK_PAINT;
    }
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
