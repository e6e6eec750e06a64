/*
 * FreeRTOSConfig.h - FreeRTOS-Kernel V11 on QEMU mps2-an386 (Cortex-M4F,
 * port GCC/ARM_CM4F), for chatwire over lwIP.
 */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#include <stdint.h>

/* SysTick (processor clock) runs at 25 MHz of emulated time, as do the
 * CMSDK timers. A 1 kHz tick: lwIP's sys_now() and every timeout of the
 * firmware are counted in it. */
#define configCPU_CLOCK_HZ 25000000UL
#define configTICK_RATE_HZ 1000
#define configUSE_PREEMPTION 1
/* No two tasks share a priority: nothing to slice. */
#define configUSE_TIME_SLICING 0
#define configUSE_PORT_OPTIMISED_TASK_SELECTION 1
#define configUSE_TICKLESS_IDLE 0
#define configMAX_PRIORITIES 8
#define configMINIMAL_STACK_SIZE 160 /* words: the idle task's stack */
#define configMAX_TASK_NAME_LEN 12
/* lwIP's FreeRTOS port requires 32-bit ticks (it #errors on 16). */
#define configTICK_TYPE_WIDTH_IN_BITS TICK_TYPE_WIDTH_32_BITS
#define configIDLE_SHOULD_YIELD 1
#define configTASK_NOTIFICATION_ARRAY_ENTRIES 1
#define configQUEUE_REGISTRY_SIZE 0
/* lwIP 2.2.1's port still says portTICK_RATE_MS (a V8 name). */
#define configENABLE_BACKWARD_COMPATIBILITY 1
/* None: lwIP's port needs one only for LWIP_NETCONN_SEM_PER_THREAD (off). */
#define configNUM_THREAD_LOCAL_STORAGE_POINTERS 0
#define configUSE_MINI_LIST_ITEM 1
#define configSTACK_DEPTH_TYPE uint32_t
#define configMESSAGE_BUFFER_LENGTH_TYPE size_t
#define configHEAP_CLEAR_MEMORY_ON_FREE 0
#define configUSE_NEWLIB_REENTRANT 0 /* no newlib call that needs one */

/* Memory: tasks, queues and semaphores come from heap_4 (lwIP's sys_arch
 * creates its mailboxes and semaphores dynamically; chatwire, mbedTLS and
 * lwIP's own pools are static). Sized from the measured minimum ever free
 * (printed at the end of every run). */
#define configSUPPORT_STATIC_ALLOCATION 0
#define configSUPPORT_DYNAMIC_ALLOCATION 1
#define configTOTAL_HEAP_SIZE (24u * 1024u)
#define configAPPLICATION_ALLOCATED_HEAP 0

/* No software timers, event groups, stream buffers or co-routines. */
#define configUSE_TIMERS 0
#define configUSE_EVENT_GROUPS 0
#define configUSE_STREAM_BUFFERS 0
#define configUSE_CO_ROUTINES 0

/* Interrupt priorities. QEMU 7.2's NVIC implements 8 priority bits, the
 * real AN386 (CMSDK Cortex-M4) 3: with 3 the values below hold on both, and
 * the port's checks pass. The kernel (SysTick, PendSV) runs at the lowest
 * priority, 0xE0; interrupts that call FromISR functions need a priority
 * value >= configMAX_SYSCALL_INTERRUPT_PRIORITY (0xA0): the LAN9118 uses
 * 0xC0. */
#define configPRIO_BITS 3
#define configKERNEL_INTERRUPT_PRIORITY (7u << (8u - configPRIO_BITS))
#define configMAX_SYSCALL_INTERRUPT_PRIORITY (5u << (8u - configPRIO_BITS))
/* V11 checks that the vector table holds its SVC and PendSV handlers
 * directly (startup.c does). */
#define configCHECK_HANDLER_INSTALLATION 1

/* Hooks: the tick hook timestamps each tick for the heartbeat's lateness
 * (heartbeat.c); overflow and malloc failure end the run (startup.c). */
/* The idle hook waits for an interrupt (heartbeat.c): the emulator then
 * sleeps instead of spinning a host core, and with -icount its clock
 * follows the host's while the CPU is idle (see README.md, Timing). */
#define configUSE_IDLE_HOOK 1
#define configUSE_TICK_HOOK 1
#define configUSE_MALLOC_FAILED_HOOK 1
#define configUSE_DAEMON_TASK_STARTUP_HOOK 0
#define configCHECK_FOR_STACK_OVERFLOW 2
#define configGENERATE_RUN_TIME_STATS 0
#define configUSE_TRACE_FACILITY 0
#define configUSE_STATS_FORMATTING_FUNCTIONS 0

void fw_freertos_assert(const char *file, int line);
#define configASSERT(x)                            \
    do {                                           \
        if ((x) == 0) {                            \
            fw_freertos_assert(__FILE__, __LINE__); \
        }                                          \
    } while (0)

#define configUSE_TASK_NOTIFICATIONS 1
#define configUSE_MUTEXES 1
#define configUSE_RECURSIVE_MUTEXES 1 /* lwIP's sys_mutex */
#define configUSE_COUNTING_SEMAPHORES 1
#define configUSE_QUEUE_SETS 0
#define configUSE_APPLICATION_TASK_TAG 0
#define configUSE_POSIX_ERRNO 0

#define INCLUDE_vTaskPrioritySet 0
#define INCLUDE_uxTaskPriorityGet 0
#define INCLUDE_vTaskDelete 1
#define INCLUDE_vTaskSuspend 1 /* lwIP's port: portMAX_DELAY waits forever */
#define INCLUDE_xTaskDelayUntil 1
#define INCLUDE_vTaskDelay 1
#define INCLUDE_xTaskGetSchedulerState 1
#define INCLUDE_xTaskGetCurrentTaskHandle 1
#define INCLUDE_uxTaskGetStackHighWaterMark 1
#define INCLUDE_xTaskGetIdleTaskHandle 1
#define INCLUDE_eTaskGetState 0
#define INCLUDE_xTimerPendFunctionCall 0
#define INCLUDE_xTaskAbortDelay 0
#define INCLUDE_xTaskGetHandle 0
#define INCLUDE_xTaskResumeFromISR 0

#endif /* FREERTOS_CONFIG_H */
