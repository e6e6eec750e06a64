/*
 * scenarios.c - what the chat task does in each scenario, and the checks
 * the firmware can make itself (the run script checks the printed lines,
 * the exit status, the server's and the relay's logs on top).
 *
 * A scenario that needs two boots (state handed from one to the next) is
 * two entries here, one per boot, chosen by the run script's scenario=.
 */
#include "app.h"

#include <stdio.h>
#include <string.h>

#include "FreeRTOS.h"
#include "task.h"

#include "board.h"
#include "fw.h" /* examples/qemu-mps2: the semihosting file standing in for flash */

/* lwIP keeps a closed connection's pcb for 2 x TCP_MSL (TIME_WAIT), freed
 * by its 500 ms timer: wait that long before comparing the pools. */
#define TIME_WAIT_MS (2u * 1000u + 1000u)

static void check_ok(fw_chat_t *c, int rc, const char *what)
{
    char msg[80];
    snprintf(msg, sizeof msg, "chat %lu (%s): rc=%d", (unsigned long)c->n,
             what, rc);
    fw_check(c, rc == CW_OK, msg);
    snprintf(msg, sizeof msg, "chat %lu (%s): answer is not Echo: <prompt>",
             (unsigned long)c->n, what);
    fw_check(c, rc != CW_OK || fw_answer_ok(c), msg);
}

static void check_flag(fw_chat_t *c, bool actual, bool expected,
                       const char *flag)
{
    char msg[80];
    snprintf(msg, sizeof msg, "chat %lu: %s=%d, expected %d",
             (unsigned long)c->n, flag, actual ? 1 : 0, expected ? 1 : 0);
    fw_check(c, actual == expected, msg);
}

static void check_attempts(fw_chat_t *c, uint32_t expected)
{
    char msg[80];
    snprintf(msg, sizeof msg, "chat %lu: attempts=%lu, expected %lu",
             (unsigned long)c->n, (unsigned long)c->res.attempts,
             (unsigned long)expected);
    fw_check(c, c->res.attempts == expected, msg);
}

/* stream: `requests` streamed answers (on one kept connection). */
static void sc_stream(fw_chat_t *c)
{
    uint32_t i;
    for (i = 0; i < c->args->requests; i++) {
        int rc = fw_chat_once(c, true);
        check_ok(c, rc, "streamed");
        check_flag(c, c->res.done, true, "done");
    }
}

/* no-stream: `requests` non-streamed answers (res.content). */
static void sc_no_stream(fw_chat_t *c)
{
    uint32_t i;
    for (i = 0; i < c->args->requests; i++) {
        int rc = fw_chat_once(c, false);
        check_ok(c, rc, "not streamed");
    }
}

/* mixed: streamed and non-streamed in turn, `requests` in all (what the
 * bad-link scenarios run). */
static void sc_mixed(fw_chat_t *c)
{
    uint32_t i;
    for (i = 0; i < c->args->requests; i++) {
        int rc = fw_chat_once(c, i % 2u == 0u);
        check_ok(c, rc, i % 2u == 0u ? "streamed" : "not streamed");
    }
}

/* keepalive: one connection reused, a resumed TLS session on a new one, and
 * a kept connection the server closed while idle, replaced for free. */
static void sc_keepalive(fw_chat_t *c)
{
    int rc;

    rc = fw_chat_once(c, true); /* 1: new connection, full handshake */
    check_ok(c, rc, "first");
    check_flag(c, c->res.reused_connection, false, "reused");
    check_flag(c, cw_tls_resumed(&c->tls), false, "resumed");
    check_attempts(c, 1);

    rc = fw_chat_once(c, false); /* 2: the same connection */
    check_ok(c, rc, "kept alive");
    check_flag(c, c->res.reused_connection, true, "reused");
    check_flag(c, c->res.stale_reconnect, false, "stale");
    check_attempts(c, 1);

    cw_client_close(&c->client); /* 3: new connection, resumed session */
    rc = fw_chat_once(c, true);
    check_ok(c, rc, "after close");
    check_flag(c, c->res.reused_connection, false, "reused");
    check_flag(c, cw_tls_resumed(&c->tls), true, "resumed");
    check_attempts(c, 1);

    /* 4: idle longer than the server keeps a connection: it has closed
     * this one (close_notify + FIN), which the client sees before sending
     * and replaces without a retry */
    fw_printf("fw: idle %lu ms\n", (unsigned long)c->args->wait_ms);
    vTaskDelay(pdMS_TO_TICKS(c->args->wait_ms));
    rc = fw_chat_once(c, false);
    check_ok(c, rc, "after the server's idle close");
    check_flag(c, c->res.stale_reconnect, true, "stale");
    check_flag(c, c->res.reused_connection, false, "reused");
    check_flag(c, cw_tls_resumed(&c->tls), true, "resumed");
    check_attempts(c, 1);
}

/* soak: `requests` short answers, streamed and not in turn, on connections
 * closed after the first request and every tenth; the arena, lwIP's heap
 * and pools and the FreeRTOS heap must hold the same after the last
 * request as after the first (each measured once its connection has left
 * TIME_WAIT). */
static void sc_soak(fw_chat_t *c)
{
    fw_usage_t first;
    fw_usage_t last;
    uint32_t i;

    for (i = 1; i <= c->args->requests; i++) {
        int rc = fw_chat_once(c, i % 2u == 1u);
        check_ok(c, rc, "soak");
        if (i == 1u || i % 10u == 0u || i == c->args->requests) {
            cw_client_close(&c->client);
        }
        if (i == 1u || i == c->args->requests) {
            const char *diff;
            vTaskDelay(pdMS_TO_TICKS(TIME_WAIT_MS));
            fw_usage_get(i == 1u ? &first : &last);
            diff = fw_usage_print(i == 1u ? "after=1" : "after=last",
                                  i == 1u ? &first : &last,
                                  i == 1u ? NULL : &first);
            if (diff != NULL) {
                char msg[80];
                snprintf(msg, sizeof msg, "soak: %s use grew", diff);
                fw_check(c, false, msg);
            }
        }
    }
}

/* gone: the server is killed mid-stream (after `mark` deltas the run script
 * kills it): a clean CW_ERR_CLOSED with the text so far, no retry (text had
 * been delivered), then a second request finds the port closed: connect
 * errors, retried, within the timeouts. */
static void sc_gone(fw_chat_t *c)
{
    int rc = fw_chat_once(c, true);
    fw_check(c, rc == CW_ERR_CLOSED, "chat 1: not CW_ERR_CLOSED");
    check_flag(c, c->res.partial, true, "partial");
    check_attempts(c, 1);
    fw_check(c, c->ms < c->args->timeout_ms, "chat 1: took the whole timeout");

    rc = fw_chat_once(c, true);
    fw_check(c, rc == CW_ERR_CONNECT, "chat 2: not CW_ERR_CONNECT");
    check_attempts(c, 1u + CW_DEFAULT_MAX_RETRIES);
    fw_check(c, c->ms < c->args->timeout_ms, "chat 2: took the whole timeout");
}

/* The TLS session on its way to or from flash (it holds session keys: wiped
 * after use). */
static uint8_t session_blob[CW_TLS_SESSION_MAX + 512u];

/* resume-save (boot 1): a chat with a full handshake, then the TLS session
 * is exported and kept in the file that stands in for flash. TLS 1.3's
 * ticket comes with the response, so the export follows the request. */
static void sc_resume_save(fw_chat_t *c)
{
    uint8_t *blob = session_blob;
    size_t len = 0;
    int rc = fw_chat_once(c, true);

    check_ok(c, rc, "boot 1");
    check_flag(c, cw_tls_resumed(&c->tls), false, "resumed");
    rc = cw_tls_session_export(&c->tls, blob, sizeof session_blob, &len);
    fw_check(c, rc == CW_OK, "boot 1: no session to export");
    fw_check(c, c->args->session != NULL &&
                    fw_semihost_file_write(c->args->session, blob, len) == 0,
             "boot 1: cannot write the session file");
    fw_printf("fw: session saved bytes=%lu %s\n", (unsigned long)len,
              cw_tls_version(&c->tls));
    memset(blob, 0, sizeof session_blob); /* it holds the session's keys */
}

/* What expect= asks of boot 2, and how cw_tls_session_note() starts then. */
static const char *const expectations[][2] = {
    { "resumed", "resumed" },
    { "damaged", "the session blob is damaged" },
    { "expired", "the saved session has expired" },
    { "foreign", "the saved session is for another host" },
    { "forgotten", "the server declined the saved session" },
};

/* resume-load (boot 2): the session from boot 1 imported before the first
 * connection; expect= says what must come of it: resumed, or refused or
 * declined for a reason (then a full handshake must follow, and the chat
 * still succeed). */
static void sc_resume_load(fw_chat_t *c)
{
    uint8_t *blob = session_blob;
    const char *want = c->args->expect != NULL ? c->args->expect : "resumed";
    const char *expect = NULL;
    bool want_resumed = strcmp(want, "resumed") == 0;
    size_t i;
    long n = c->args->session != NULL
                 ? fw_semihost_file_read(c->args->session, blob,
                                         sizeof session_blob)
                 : -1;
    char msg[96];
    int rc;

    for (i = 0; i < sizeof expectations / sizeof expectations[0]; i++) {
        if (strcmp(want, expectations[i][0]) == 0) {
            expect = expectations[i][1];
        }
    }
    fw_check(c, expect != NULL, "boot 2: unknown expect=");
    if (expect == NULL) {
        return;
    }
    fw_check(c, n > 0, "boot 2: cannot read the session file");
    rc = cw_tls_session_import(&c->tls, blob, n > 0 ? (size_t)n : 0u);
    fw_printf("fw: session import rc=%d note=%s\n", rc,
              cw_tls_session_note(&c->tls));
    memset(blob, 0, sizeof session_blob);
    rc = fw_chat_once(c, true);
    check_ok(c, rc, "boot 2");
    check_flag(c, cw_tls_resumed(&c->tls), want_resumed, "resumed");
    fw_printf("fw: session note=%s\n", cw_tls_session_note(&c->tls));
    snprintf(msg, sizeof msg, "boot 2: session note is not '%.40s...'",
             expect);
    fw_check(c, strncmp(cw_tls_session_note(&c->tls), expect,
                        strlen(expect)) == 0, msg);
}

/* tools: the device offers set_led and read_temperature; the model (the
 * test server, tools=SHAPE in the prompt) calls them, the firmware runs
 * them and sends the results back until the answer is text. The
 * conversation, the calls and their arguments live in fixed buffers. */
static bool led_on;

static const cw_tool_t device_tools[] = {
    { "set_led", "Switch the device's LED on or off.",
      "{\"type\": \"object\", \"properties\": {\"on\": {\"type\": "
      "\"boolean\"}}, \"required\": [\"on\"]}", false },
    { "read_temperature", "Read the device's temperature sensor.",
      "{\"type\": \"object\", \"properties\": {\"unit\": {\"type\": "
      "\"string\"}}}", false },
};

static size_t run_device_tool(const cw_tool_call_t *call, char *out,
                              size_t cap)
{
    if (strcmp(call->name, "set_led") == 0) {
        const char *on = strstr(call->arguments, "\"on\"");
        led_on = on != NULL && strstr(on, "true") != NULL;
        return (size_t)snprintf(out, cap, "{\"led\": \"%s\"}",
                                led_on ? "on" : "off");
    }
    if (strcmp(call->name, "read_temperature") == 0) {
        return (size_t)snprintf(out, cap, "{\"celsius\": 21.5}");
    }
    return (size_t)snprintf(out, cap, "{\"error\": \"no such tool\"}");
}

static int tools_delta(void *user, const char *text, size_t len)
{
    fw_chat_t *c = (fw_chat_t *)user;
    size_t n = len < sizeof c->answer - 1u - c->answer_len
                   ? len : sizeof c->answer - 1u - c->answer_len;
    memcpy(c->answer + c->answer_len, text, n);
    c->answer_len += n;
    c->answer[c->answer_len] = '\0';
    c->answer_cut = c->answer_cut || n < len;
    return 0;
}

static void sc_tools(fw_chat_t *c)
{
    static cw_message_t msgs[8];
    static cw_message_ext_t ext[8];
    static cw_tool_call_t kept[8];
    static char text[2048];
    static cw_tool_call_t calls[4];
    static char args[512];
    static const char want[] = "Done: set_led -> {\"led\": \"on\"}; "
                               "read_temperature -> {\"celsius\": 21.5}";
    cw_history_t h;
    uint32_t round;
    uint32_t ran = 0;
    int rc = CW_OK;
    char msg[96];

    led_on = false;
    cw_history_init(&h, msgs, 8, text, sizeof text);
    cw_history_init_tools(&h, ext, kept, 8);
    cw_history_add(&h, "user", c->args->prompt, strlen(c->args->prompt));
    for (round = 0; round < 3u; round++) {
        cw_chat_request_t req;
        size_t k;
        c->n++;
        c->answer_len = 0;
        c->answer[0] = '\0';
        c->answer_cut = false;
        cw_chat_request_init(&req, h.msgs, h.count);
        req.message_ext = h.ext;
        req.tools = device_tools;
        req.tool_count = 2;
        req.tool_call_buf = calls;
        req.tool_call_max = 4;
        req.tool_args = args;
        req.tool_args_size = sizeof args;
        req.stream = round % 2u == 0u; /* streamed, then not */
        req.on_delta = tools_delta;
        req.on_delta_user = c;
        rc = cw_chat(&c->client, &req, &c->res);
        fw_printf("fw: chat %lu rc=%d (%s) http=%d tool_calls=%lu\n",
                  (unsigned long)c->n, rc, cw_strerror(rc),
                  c->res.http.status, (unsigned long)c->res.tool_calls);
        if (rc != CW_OK || c->res.tool_calls == 0u) {
            break;
        }
        rc = cw_history_add_tool_calls(&h, calls, c->res.tool_calls);
        for (k = 0; rc == CW_OK && k < c->res.tool_calls; k++) {
            char out[64];
            size_t n = run_device_tool(&calls[k], out, sizeof out);
            fw_printf("fw: tool %s(%s) -> %s\n", calls[k].name,
                      calls[k].arguments, out);
            rc = cw_history_add_tool_result(&h, calls[k].id, out, n);
            ran++;
        }
    }
    if (!c->res.done && c->res.content != NULL) {
        tools_delta(c, c->res.content, c->res.content_len);
    }
    fw_printf("fw: answer %lu: %s\n", (unsigned long)c->n, c->answer);
    fw_printf("fw: led %s\n", led_on ? "on" : "off");
    snprintf(msg, sizeof msg, "tools: rc=%d", rc);
    fw_check(c, rc == CW_OK, msg);
    fw_check(c, ran == 2u, "tools: not two tools run");
    fw_check(c, led_on, "tools: the LED is not on");
    fw_check(c, strcmp(c->answer, want) == 0,
             "tools: the answer is not the tools' results");
}

/* superloop: `requests` chats, streamed and not in turn, through the step
 * API from a loop that yields whenever a step would block (the first on a
 * new connection: its TLS handshake goes step by step too). Each must
 * succeed and have waited at least once, i.e. given the CPU back instead
 * of blocking in a socket call. */
static void sc_superloop(fw_chat_t *c)
{
    uint32_t i;
    for (i = 0; i < c->args->requests; i++) {
        char msg[80];
        int rc = fw_chat_stepped(c, i % 2u == 0u);
        check_ok(c, rc, i % 2u == 0u ? "stepped, streamed"
                                     : "stepped, not streamed");
        snprintf(msg, sizeof msg, "chat %lu: %lu steps, none waited",
                 (unsigned long)c->n, (unsigned long)c->steps);
        fw_check(c, c->waits > 0u, msg);
    }
}

static const fw_scenario_t scenarios[] = {
    { "stream", sc_stream },
    { "no-stream", sc_no_stream },
    { "mixed", sc_mixed },
    { "keepalive", sc_keepalive },
    { "soak", sc_soak },
    { "gone", sc_gone },
    { "resume-save", sc_resume_save },
    { "resume-load", sc_resume_load },
    { "tools", sc_tools },
    { "superloop", sc_superloop },
};

const fw_scenario_t *fw_scenario_find(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (strcmp(scenarios[i].name, name) == 0) {
            return &scenarios[i];
        }
    }
    return NULL;
}

void fw_scenario_list(void)
{
    size_t i;
    fw_printf("fw: scenarios:");
    for (i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        fw_printf(" %s", scenarios[i].name);
    }
    fw_printf("\n");
}
