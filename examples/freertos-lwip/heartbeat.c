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
/* written by the tick interrupt: the tick count and Timer0 at its entry */
static volatile TickType_t stamp_tick;
static volatile uint32_t stamp_timer;
static hb_stats_t st;
static uint32_t max_late;  /* Timer0 ticks */
static TickType_t reset_tick;

/* FreeRTOS calls this in the SysTick interrupt, after counting the tick. */
void vApplicationTickHook(void);
void vApplicationTickHook(void)
{
    stamp_timer = fw_timer_ticks();
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
    /* time since the due tick's interrupt: whole ticks since it, plus the
     * time since the latest tick's interrupt */
    late = (uint32_t)(tick - due) * TIMER_PER_TICK + (now - at);
    st.beats++;
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
    TickType_t due = xTaskGetTickCount();
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
    taskENTER_CRITICAL();
    *out = st;
    out->max_late_ns = max_late < 0xFFFFFFFFu / NS_PER_TIMER
                           ? max_late * NS_PER_TIMER : 0xFFFFFFFFu;
    out->ticks = (uint32_t)(xTaskGetTickCount() - reset_tick);
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
