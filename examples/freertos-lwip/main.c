/*
 * main.c - chatwire on FreeRTOS + lwIP on QEMU mps2-an386 (Cortex-M4F):
 * reads the command line, starts the heartbeat and the chat task, starts
 * the scheduler. See README.md and app.h for the command line.
 */
#include <stdlib.h>
#include <string.h>

#include "FreeRTOS.h"
#include "task.h"

#include "app.h"
#include "board.h"
#include "fw.h" /* examples/qemu-mps2: semihosting, test entropy */
#include "heartbeat.h"

static char cmdline[768];
static fw_args_t args;

static bool to_u32(const char *v, uint32_t *out)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n > 0xFFFFFFFFul) {
        return false;
    }
    *out = (uint32_t)n;
    return true;
}

bool fw_args_parse(char *line, fw_args_t *a)
{
    char *rest = line;
    char *w;

    memset(a, 0, sizeof a[0]);
    a->ip = "192.0.2.2";
    a->mask = "255.255.255.0";
    a->gw = "192.0.2.1";
    a->dns = "192.0.2.1";
    a->timeout_ms = 60000u;
    a->connect_ms = 20000u;
    a->idle_ms = 20000u;
    a->requests = 1u;
    a->hb_prio = FW_HEARTBEAT_PRIO;
    (void)fw_next_word(&rest); /* the program name */
    while ((w = fw_next_word(&rest)) != NULL) {
        char *v = strchr(w, '=');
        bool ok = true;
        uint32_t now = 0;
        if (v == NULL) {
            fw_printf("fw: argument '%s' is not key=value\n", w);
            return false;
        }
        *v++ = '\0';
        if (strcmp(w, "prompt") == 0) {
            /* the rest of the line, spaces included */
            if (*rest != '\0') {
                v[strlen(v)] = ' ';
            }
            a->prompt = v;
            break;
        }
        if (strcmp(w, "scenario") == 0) {
            a->scenario = v;
        } else if (strcmp(w, "url") == 0) {
            a->url = v;
        } else if (strcmp(w, "key") == 0) {
            a->key = v;
        } else if (strcmp(w, "ip") == 0) {
            a->ip = v;
        } else if (strcmp(w, "mask") == 0) {
            a->mask = v;
        } else if (strcmp(w, "gw") == 0) {
            a->gw = v;
        } else if (strcmp(w, "dns") == 0) {
            a->dns = v;
        } else if (strcmp(w, "now") == 0) {
            ok = to_u32(v, &now);
            a->now = now;
        } else if (strcmp(w, "timeout") == 0) {
            ok = to_u32(v, &a->timeout_ms);
        } else if (strcmp(w, "connect") == 0) {
            ok = to_u32(v, &a->connect_ms);
        } else if (strcmp(w, "idle") == 0) {
            ok = to_u32(v, &a->idle_ms);
        } else if (strcmp(w, "requests") == 0) {
            ok = to_u32(v, &a->requests);
        } else if (strcmp(w, "wait") == 0) {
            ok = to_u32(v, &a->wait_ms);
        } else if (strcmp(w, "session") == 0) {
            a->session = v;
        } else if (strcmp(w, "expect") == 0) {
            a->expect = v;
        } else if (strcmp(w, "mark") == 0) {
            ok = to_u32(v, &a->mark);
        } else if (strcmp(w, "hbprio") == 0) {
            ok = to_u32(v, &a->hb_prio) && a->hb_prio > 0u &&
                 a->hb_prio < configMAX_PRIORITIES;
        } else {
            fw_printf("fw: unknown argument '%s'\n", w);
            return false;
        }
        if (!ok) {
            fw_printf("fw: bad number for '%s'\n", w);
            return false;
        }
    }
    if (a->scenario == NULL || a->url == NULL || a->key == NULL ||
        a->prompt == NULL) {
        fw_printf("fw: usage: fw scenario=NAME url=URL key=KEY now=UNIXTIME "
                  "[key=value...] prompt=TEXT...\n");
        return false;
    }
    return true;
}

int main(void)
{
    uint32_t seed = 0;

    fw_timer_init();
    fw_console_init();
    if (!fw_args_parse((char *)fw_semihost_cmdline(cmdline, sizeof cmdline),
                       &args)) {
        return 2;
    }
    fw_printf("fw: chatwire %s on FreeRTOS %s + lwIP, %s; scenario %s\n",
              CW_VERSION_STRING, tskKERNEL_VERSION_NUMBER, cw_tls_build_info(),
              args.scenario);
    fw_printf("fw: WARNING: entropy is cw_insecure_test_entropy (host "
              "/dev/urandom via semihosting): emulator only\n");
    /* lwIP's ports, DNS ids and sequence numbers differ from boot to boot,
     * so that a second boot does not meet the first one's connections */
    if (cw_insecure_test_entropy(NULL, (uint8_t *)&seed, sizeof seed) != 0) {
        fw_printf("fw: no entropy\n");
        return 1;
    }
    fw_rand_seed(seed);

    heartbeat_start(FW_HEARTBEAT_MS, args.hb_prio);
    if (xTaskCreate(fw_chat_task, "chat", FW_CHAT_STACK_WORDS, &args,
                    FW_CHAT_PRIO, NULL) != pdPASS) {
        fw_printf("fw: cannot create the chat task\n");
        return 1;
    }
    fw_console_start_locking();
    vTaskStartScheduler();
    fw_printf("fw: the scheduler returned\n");
    return 1;
}
