/*
 * heartbeat.c - see heartbeat.h.
 */
#include "heartbeat.h"

#include "FreeRTOS.h"
#include "task.h"

#include "board.h"

#define TIMER_PER_TICK (FW_TIMER_HZ / configTICK_RATE_HZ)
#define TIMER_PER_US (FW_TIMER_HZ / 1000000u)
#define NS_PER_TIMER (1000000000u / FW_TIMER_HZ)
#define STACK_WORDS 192u

static TaskHandle_t task;
static TickType_t period;
/* SysTick, counting down at the CPU clock from RVR to 0, where a tick is
 * due (and the counter reloads) */
#define SYST_RVR FW_REG(0xE000E014u)
#define SYST_CVR FW_REG(0xE000E018u)
#if configCPU_CLOCK_HZ != FW_TIMER_HZ
#error "the tick hook converts SysTick counts to Timer0 ticks 1:1"
#endif

/* written by the tick interrupt: the latest tick count, and Timer0 at the
 * moment that tick was due */
static volatile TickType_t stamp_tick;
static volatile uint32_t stamp_timer;
/* the idle task is waiting for an interrupt (or about to) */
static volatile uint8_t idle;
static hb_stats_t st;
static uint32_t max_late;  /* Timer0 ticks */
static TickType_t reset_tick;
static TickType_t next_due; /* the tick of the next beat */

/* Nothing to run: sleep until the next interrupt (a tick at the latest).
 * The emulator then sleeps too instead of spinning a host core, and with
 * -icount its clock follows the host's while the CPU sleeps. */
void vApplicationIdleHook(void);
void vApplicationIdleHook(void)
{
    idle = 1u;
    __asm__ volatile("dsb\n\twfi" ::: "memory");
    idle = 0u;
}

/* FreeRTOS calls this in the SysTick interrupt, after counting the tick.
 * While a task runs, SysTick has counted down from RVR since the tick was
 * due: subtracting that dates the tick to when it was due, so that a late
 * interrupt (masked by a critical section, behind another interrupt) counts
 * as lateness. While the CPU slept, the delay is the emulator's in waking
 * it (its clock follows the host's then), not the firmware's: the tick
 * dates from the interrupt's entry. */
void vApplicationTickHook(void);
void vApplicationTickHook(void)
{
    uint32_t now = fw_timer_ticks();
    stamp_timer = idle != 0u ? now : now - (SYST_RVR - SYST_CVR);
    stamp_tick = xTaskGetTickCountFromISR();
}

static void beat(TickType_t due, BaseType_t delayed)
{
    uint32_t now;
    TickType_t tick;
    uint32_t at;
    uint32_t late;

    /* one critical section, so that no tick falls between the readings */
    taskENTER_CRITICAL();
    now = fw_timer_ticks();
    tick = stamp_tick;
    at = stamp_timer;
    /* time since the due tick was due: whole ticks since it, plus the time
     * since the latest tick was due */
    late = (uint32_t)(tick - due) * TIMER_PER_TICK + (now - at);
    st.beats++;
    next_due = due + period;
    if (delayed == pdFALSE || late >= (uint32_t)period * TIMER_PER_TICK) {
        st.missed++;
    }
    if (late > max_late) {
        max_late = late;
    }
    if (late > 100u * TIMER_PER_US) {
        st.late_over_100us++;
    }
    taskEXIT_CRITICAL();
}

static void heartbeat_main(void *arg)
{
    /* the schedule starts at heartbeat_start, not when the task first
     * runs: a task starved from the start is late from the start */
    TickType_t due = next_due - period;
    (void)arg;
    for (;;) {
        BaseType_t delayed = xTaskDelayUntil(&due, period);
        beat(due, delayed);
    }
}

void heartbeat_start(uint32_t period_ms, uint32_t prio)
{
    period = pdMS_TO_TICKS(period_ms);
    st.period_ms = period_ms;
    next_due = xTaskGetTickCount() + period;
    if (xTaskCreate(heartbeat_main, "heartbeat", STACK_WORDS, NULL, prio,
                    &task) != pdPASS) {
        fw_panic("heartbeat task", NULL, __FILE__, __LINE__);
    }
}

void heartbeat_reset(void)
{
    taskENTER_CRITICAL();
    st.beats = 0;
    st.missed = 0;
    st.late_over_100us = 0;
    max_late = 0;
    reset_tick = xTaskGetTickCount();
    taskEXIT_CRITICAL();
}

void heartbeat_get(hb_stats_t *out)
{
    TickType_t now;
    TickType_t from;
    uint32_t late;

    taskENTER_CRITICAL();
    *out = st;
    now = xTaskGetTickCount();
    late = max_late;
    /* beats due a period ago or more that have not run yet (a starved
     * heartbeat never gets to count them itself) */
    from = (TickType_t)(next_due - reset_tick) < 0x80000000u ? next_due
                                                             : reset_tick;
    if ((TickType_t)(now - from) < 0x80000000u && now - from >= period) {
        out->missed += (uint32_t)((now - from) / period);
        if ((uint32_t)(now - from) * TIMER_PER_TICK > late) {
            late = (uint32_t)(now - from) * TIMER_PER_TICK;
        }
    }
    out->max_late_ns = late < 0xFFFFFFFFu / NS_PER_TIMER ? late * NS_PER_TIMER
                                                          : 0xFFFFFFFFu;
    out->ticks = (uint32_t)(now - reset_tick);
    taskEXIT_CRITICAL();
}

void *heartbeat_task(void)
{
    return task;
}

size_t heartbeat_stack_words(void)
{
    return STACK_WORDS;
}
