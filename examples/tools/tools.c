/*
 * tools.c - a device the model can act on. It offers two functions,
 * set_led and read_temperature; when the model calls them, the program
 * runs them and sends the results back, until the model answers in text.
 * Everything lives in fixed buffers: the conversation, the calls and their
 * arguments.
 *
 *   COMETAPI_KEY=... tools "Turn the LED on and tell me how warm it is."
 *
 * CHATWIRE_BASE_URL and CHATWIRE_CA point it at another server (the tests
 * run it against the local one).
 */
#include "chatwire.h"
#include "cw_posix.h"
#include "cw_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The device: an LED and a temperature sensor. */
static int led_on;
static const char *device_temperature = "21.5";

/* [tools] */
static const cw_tool_t tools[] = {
    { "set_led", "Switch the device's LED on or off.",
      "{\"type\": \"object\", \"properties\": {\"on\": {\"type\": "
      "\"boolean\"}}, \"required\": [\"on\"]}", false },
    { "read_temperature", "Read the device's temperature sensor, in "
      "degrees Celsius.", "{\"type\": \"object\", \"properties\": {}}",
      false },
};

/* Runs one call; its result (JSON text) into out. */
static size_t run_tool(const cw_tool_call_t *call, char *out, size_t cap)
{
    if (strcmp(call->name, "set_led") == 0) {
        /* {"on": true}: a device would parse this with jsmn */
        const char *on = strstr(call->arguments, "\"on\"");
        led_on = on != NULL && strstr(on, "true") != NULL;
        return (size_t)snprintf(out, cap, "{\"led\": \"%s\"}",
                                led_on ? "on" : "off");
    }
    if (strcmp(call->name, "read_temperature") == 0) {
        return (size_t)snprintf(out, cap, "{\"celsius\": %s}",
                                device_temperature);
    }
    return (size_t)snprintf(out, cap, "{\"error\": \"no such function\"}");
}
/* [tools] */

static int print(void *user, const char *text, size_t len)
{
    (void)user;
    fwrite(text, 1, len, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static cw_posix_t sock;
    static cw_tls_t tls;
    static cw_client_t client;
    static uint8_t io[2048], work[16384];
    /* the conversation, and the calls of one answer */
    static cw_message_t msgs[16];
    static cw_message_ext_t ext[16];
    static cw_tool_call_t kept[16];
    static char text[8192];
    static cw_tool_call_t calls[4];
    static char args[1024];
    cw_tls_config_t tls_cfg = { .ca_file = getenv("CHATWIRE_CA") };
    cw_history_t h;
    int rc = CW_OK;
    int round;

    if (argc != 2) {
        fprintf(stderr, "usage: tools PROMPT\n");
        return 2;
    }
    cw_posix_init(&sock);
    if (cw_tls_init(&tls, cw_posix_transport(&sock), &tls_cfg) != CW_OK) {
        fprintf(stderr, "tools: %s\n", cw_tls_error(&tls));
        return 1;
    }
    cw_client_config_t cfg = { .transport = cw_tls_transport(&tls),
                               .base_url = getenv("CHATWIRE_BASE_URL"),
                               .api_key = getenv("COMETAPI_KEY"),
                               .io_buf = io, .io_size = sizeof io,
                               .work_buf = work, .work_size = sizeof work,
                               .platform = cw_posix_platform() };
    if (cw_client_init(&client, &cfg) != CW_OK) {
        fprintf(stderr, "tools: bad base URL\n");
        return 1;
    }
    /* [loop] */
    cw_history_init(&h, msgs, 16, text, sizeof text);
    cw_history_init_tools(&h, ext, kept, 16);
    cw_history_add(&h, "user", argv[1], strlen(argv[1]));
    for (round = 0; round < 5; round++) {
        cw_chat_request_t req;
        cw_result_t res;
        size_t k;

        cw_chat_request_init(&req, h.msgs, h.count);
        req.message_ext = h.ext;
        req.tools = tools;
        req.tool_count = 2;
        req.tool_call_buf = calls;   /* the answer's calls land here */
        req.tool_call_max = 4;
        req.tool_args = args;
        req.tool_args_size = sizeof args;
        req.stream = true;
        req.on_delta = print;
        rc = cw_chat(&client, &req, &res);
        if (rc != CW_OK || res.tool_calls == 0u) {
            if (rc != CW_OK) {
                fprintf(stderr, "\ntools: %s%s%s\n", cw_strerror(rc),
                        res.detail[0] != '\0' ? ": " : "", res.detail);
            }
            break; /* answered in text (or failed) */
        }
        /* the calls go into the conversation, then each one's result */
        rc = cw_history_add_tool_calls(&h, calls, res.tool_calls);
        for (k = 0; rc == CW_OK && k < res.tool_calls; k++) {
            char out[128];
            size_t n = run_tool(&calls[k], out, sizeof out);
            printf("[%s(%s) -> %s]\n", calls[k].name, calls[k].arguments,
                   out);
            rc = cw_history_add_tool_result(&h, calls[k].id, out, n);
        }
        if (rc != CW_OK) {
            fprintf(stderr, "tools: the conversation is full\n");
            break;
        }
    }
    /* [loop] */
    printf("\n[LED %s]\n", led_on ? "on" : "off");
    cw_client_close(&client);
    cw_tls_free(&tls);
    return rc == CW_OK ? 0 : 1;
}
