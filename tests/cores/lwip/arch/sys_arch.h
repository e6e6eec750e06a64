/*
 * arch/sys_arch.h - the OS types lwIP's headers need with NO_SYS 0, for
 * scripts/cores.sh's compiles (an RTOS port defines them with its own
 * semaphores, mutexes and queues; only their existence matters here).
 */
#ifndef CW_CORES_ARCH_SYS_ARCH_H
#define CW_CORES_ARCH_SYS_ARCH_H

typedef struct { void *h; } sys_sem_t;
typedef struct { void *h; } sys_mutex_t;
typedef struct { void *h; } sys_mbox_t;
typedef void *sys_thread_t;
typedef unsigned long sys_prot_t;
#define SYS_MBOX_NULL NULL
#define SYS_SEM_NULL NULL
#define sys_sem_valid(s) ((s) != NULL && (s)->h != NULL)
#define sys_sem_set_invalid(s) ((s)->h = NULL)
#define sys_mutex_valid(m) ((m) != NULL && (m)->h != NULL)
#define sys_mutex_set_invalid(m) ((m)->h = NULL)
#define sys_mbox_valid(m) ((m) != NULL && (m)->h != NULL)
#define sys_mbox_set_invalid(m) ((m)->h = NULL)

#endif /* CW_CORES_ARCH_SYS_ARCH_H */
