/*
 * cli_batch.h - chatwire --batch: many streamed chats in one thread, over
 * the step API. See cli_batch.c.
 */
#ifndef CLI_BATCH_H
#define CLI_BATCH_H

#include "chatwire.h"

#include <stddef.h>
#include <stdint.h>

typedef struct cli_batch_opts {
    const char *file;        /* one prompt a line */
    size_t concurrency;      /* chats at once, each on its own connection */
    const char *base_url;
    const char *key;
    cw_auth_style_t auth;
    const char *model;
    const char *system;      /* NULL: none */
    const char *ca_file;     /* NULL: the default */
    const char *proxy;       /* HTTP CONNECT proxy URL, NULL: none */
    uint8_t tls_min;
    uint8_t tls_max;
    uint32_t timeout_ms;     /* per chat; CW_NO_TIMEOUT: none */
    uint32_t connect_timeout_ms;
    uint32_t idle_timeout_ms;
    int max_retries;
    long max_tokens;
    double temperature;      /* < 0: not sent */
} cli_batch_opts_t;

/* Runs the batch; returns the exit status: 0 when every chat succeeded,
 * 8 when some failed (their lines say why), 1 for a bad file or setup,
 * 3 when TLS could not be set up. */
int cli_batch(const cli_batch_opts_t *o);

#endif /* CLI_BATCH_H */
