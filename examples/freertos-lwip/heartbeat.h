/*
 * heartbeat.h - a fixed-period task at the highest priority that measures
 * how late it runs, to show that the chat (at a lower priority) never keeps
 * the CPU from it.
 *
 * Each beat is due at a tick (xTaskDelayUntil keeps the schedule fixed).
 * Lateness is the time from the moment that tick was due (SysTick reached
 * zero) to the task running: the interrupt's entry, the scheduler, and
 * whatever kept either waiting (interrupts masked, a higher priority).
 * Measured with Timer0 (25 MHz of emulated time: 40 ns steps); whole ticks
 * late count 1 ms each. A beat a period or more late is missed, and so is
 * one a period overdue that has not run yet when the stats are read.
 * heartbeat.c also holds the idle hook (WFI), which the measurement needs
 * to tell a late tick interrupt from the emulator's wake-up delay.
 */
#ifndef FW_HEARTBEAT_H
#define FW_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

typedef struct hb_stats {
    uint32_t period_ms;
    uint32_t beats;          /* since the last heartbeat_reset */
    uint32_t missed;         /* beats that ran a period or more late */
    uint32_t max_late_ns;    /* worst lateness, nanoseconds of emulated
                                time (40 ns steps) */
    uint32_t late_over_100us;/* beats later than 100 us */
    uint32_t ticks;          /* FreeRTOS ticks since the last reset */
} hb_stats_t;

/* Creates the task (priority prio, period_ms between beats). */
void heartbeat_start(uint32_t period_ms, uint32_t prio);
/* Starts a new measurement (counters to zero). */
void heartbeat_reset(void);
void heartbeat_get(hb_stats_t *out);
void *heartbeat_task(void);
size_t heartbeat_stack_words(void);

#endif /* FW_HEARTBEAT_H */
