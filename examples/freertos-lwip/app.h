/*
 * app.h - the firmware's command line, the chat task's helpers and its
 * scenarios.
 *
 * Command line (QEMU -semihosting-config enable=on,arg=...), words of the
 * form key=value, any order; prompt= takes the rest of the line:
 *   fw scenario=NAME url=https://api.chatwire.test/v1 key=KEY now=UNIXTIME
 *      [ip=192.0.2.2] [mask=255.255.255.0] [gw=192.0.2.1] [dns=192.0.2.1]
 *      [timeout=MS] [connect=MS] [idle=MS] [requests=N] [wait=MS]
 *      [mark=N] [hbprio=N] [session=PATH] [expect=WHAT] prompt=TEXT...
 * A second boot with other arguments (another scenario, state from the first
 * boot) is the same command line with other words.
 */
#ifndef FW_APP_H
#define FW_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chatwire.h"
#include "cw_lwip.h"
#include "cw_tls.h"

typedef struct fw_args {
    const char *scenario;
    const char *url;
    const char *key;
    const char *prompt;
    const char *ip, *mask, *gw, *dns;
    int64_t now;           /* the host's unix time at boot (certificate
                              validity); 0: unknown, every certificate fails */
    uint32_t timeout_ms;   /* cw_client_config_t.timeout_ms */
    uint32_t connect_ms;   /* .connect_timeout_ms */
    uint32_t idle_ms;      /* .idle_timeout_ms */
    uint32_t requests;     /* requests per scenario where it applies */
    uint32_t wait_ms;      /* keepalive: idle time before the last request */
    uint32_t mark;         /* print a progress line after this many deltas */
    uint32_t hb_prio;      /* the heartbeat's priority (FW_HEARTBEAT_PRIO;
                              below FW_CHAT_PRIO only to show that its
                              check catches a starved task) */
    const char *session;   /* resume-*: the host file that stands in for
                              the flash the TLS session is kept in */
    const char *expect;    /* resume-load: resumed, or why not: damaged,
                              expired, foreign or forgotten */
} fw_args_t;

/* Parses the semihosting command line (modified in place). Returns false,
 * with a message printed, when a word is unknown or a required one missing. */
bool fw_args_parse(char *line, fw_args_t *a);

/* ------------------------------------------------------------ chat task */

/* The chat task's stack (words): the measured high-water mark (printed as
 * "stack task=chat") plus room. */
#define FW_CHAT_STACK_WORDS 2048u
#define FW_CHAT_PRIO 2u
#define FW_HEARTBEAT_PRIO 7u
#define FW_HEARTBEAT_MS 10u

/* The task that runs everything below (app.c); arg is the fw_args_t. */
void fw_chat_task(void *arg);

/* What the chat task holds: one client over TLS over lwIP sockets. */
typedef struct fw_chat {
    const fw_args_t *args;
    cw_lwip_t sock;
    cw_tls_t tls;
    cw_client_t client;
    cw_result_t res;
    uint32_t n;             /* requests made */
    char answer[1024];      /* the streamed text, or a copy of the content */
    size_t answer_len;
    bool answer_cut;        /* longer than answer[] */
    uint32_t deltas;        /* on_delta calls of the current request */
    uint32_t last_delta;    /* when the last one came (ms) */
    uint32_t max_gap;       /* longest time between two (ms) */
    uint32_t ms;            /* the last request's duration (ms) */
    uint32_t steps;         /* stepped: cw_chat_step calls */
    uint32_t waits;         /* ... that said CW_ERR_WOULD_BLOCK */
    uint32_t max_step;      /* ... the longest one (ms) */
    char fail[96];          /* the first failed check, "" when none */
} fw_chat_t;

/* One request with args->prompt (streamed or not); prints a "fw: chat N"
 * line with the result's facts and a "fw: answer N:" line. Returns the
 * cw_chat status. */
int fw_chat_once(fw_chat_t *c, bool stream);
/* The same through the step API, as a superloop would drive it: after
 * each cw_chat_step that would block, the task gives the CPU away for a
 * tick (where a superloop does its other work) and steps again; counts the
 * steps and the longest one. */
int fw_chat_stepped(fw_chat_t *c, bool stream);
/* True when the last answer is exactly "Echo: " + prompt. */
bool fw_answer_ok(const fw_chat_t *c);
/* Records a failed check (the first one is kept) and prints it. */
void fw_check(fw_chat_t *c, bool ok, const char *what);

/* Used-object counts (mbedTLS arena, lwIP heap and pools, FreeRTOS heap)
 * at one moment, to compare two moments of a soak. */
typedef struct fw_usage {
    size_t arena_bytes, arena_blocks;
    uint32_t lwip_mem;
    uint32_t pool_used[32];
    size_t heap_free;
} fw_usage_t;
void fw_usage_get(fw_usage_t *u);
/* Prints u; returns the name of the first count that differs from ref
 * (NULL when equal, or when ref is NULL). */
const char *fw_usage_print(const char *label, const fw_usage_t *u,
                           const fw_usage_t *ref);

/* ------------------------------------------------------------ scenarios */

typedef struct fw_scenario {
    const char *name;
    void (*run)(fw_chat_t *c);  /* records failures with fw_check */
} fw_scenario_t;

const fw_scenario_t *fw_scenario_find(const char *name);
void fw_scenario_list(void);

#endif /* FW_APP_H */
