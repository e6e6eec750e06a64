/*
 * console.c - UART0 console, Timer0 clock and the non-secure random numbers
 * of board.h.
 */
#include "board.h"

#include <stdbool.h>
#include <stdio.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

/* CMSDK UART */
#define UART_DATA 0x00u
#define UART_STATE 0x04u
#define UART_CTRL 0x08u
#define UART_BAUDDIV 0x10u
#define STATE_TX_FULL 0x1u

/* CMSDK timer */
#define TIMER_CTRL 0x00u
#define TIMER_VALUE 0x04u
#define TIMER_RELOAD 0x08u

static SemaphoreHandle_t console_lock;

void fw_console_init(void)
{
    FW_REG(FW_UART0 + UART_BAUDDIV) = 16u; /* the model's minimum */
    FW_REG(FW_UART0 + UART_CTRL) = 0x1u;   /* TX only */
}

void fw_console_start_locking(void)
{
    console_lock = xSemaphoreCreateMutex();
    configASSERT(console_lock != NULL);
}

void fw_write(const char *s, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        /* poll TX-full before each byte, or the model overwrites it */
        while ((FW_REG(FW_UART0 + UART_STATE) & STATE_TX_FULL) != 0u) {
        }
        FW_REG(FW_UART0 + UART_DATA) = (uint8_t)s[i];
    }
}

void fw_printf(const char *fmt, ...)
{
    static char line[256];
    bool locked = console_lock != NULL &&
                  xTaskGetSchedulerState() == taskSCHEDULER_RUNNING;
    va_list ap;
    int n;

    if (locked) {
        (void)xSemaphoreTake(console_lock, portMAX_DELAY);
    }
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0) {
        fw_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1u);
    }
    if (locked) {
        (void)xSemaphoreGive(console_lock);
    }
}

void fw_timer_init(void)
{
    FW_REG(FW_TIMER0 + TIMER_CTRL) = 0u;
    FW_REG(FW_TIMER0 + TIMER_RELOAD) = 0xFFFFFFFFu;
    FW_REG(FW_TIMER0 + TIMER_VALUE) = 0xFFFFFFFFu;
    FW_REG(FW_TIMER0 + TIMER_CTRL) = 1u; /* enable, no interrupt */
}

uint32_t fw_timer_ticks(void)
{
    return 0xFFFFFFFFu - FW_REG(FW_TIMER0 + TIMER_VALUE); /* counts down */
}

static uint32_t rand_state = 0x9e3779b9u;

void fw_rand_seed(uint32_t seed)
{
    rand_state = seed != 0u ? seed : 0x9e3779b9u;
}

uint32_t fw_rand(void)
{
    uint32_t x;
    taskENTER_CRITICAL(); /* lwIP calls it from the tcpip and chat tasks */
    x = rand_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rand_state = x;
    taskEXIT_CRITICAL();
    return x;
}
