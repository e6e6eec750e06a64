/*
 * fake_transport.h - a scripted transport for tests: it serves a recorded
 * response in slices of chosen sizes, can interleave "try again" (0)
 * returns, close early, fail after N bytes, and records what was sent.
 * Time is a counter that moves forward by `tick` ms on every call.
 */
#ifndef FAKE_TRANSPORT_H
#define FAKE_TRANSPORT_H

#include "chatwire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fake {
    const uint8_t *in;
    size_t in_len;
    size_t in_pos;
    const size_t *sizes;   /* slice sizes, cycled; NULL: as much as asked */
    size_t nsizes;
    size_t k;
    bool would_block;      /* every other recv returns 0 */
    bool blocked;
    size_t close_after;    /* recv returns CW_ERR_CLOSED past this many
                              bytes (0: at the end of in) */
    size_t fail_after;     /* recv returns fail_code past this (0: never) */
    int fail_code;
    size_t send_fail_after;/* send fails past this many bytes (0: never) */
    uint8_t sent[1u << 17];
    size_t sent_len;
    size_t send_calls;
    uint32_t clock;
    uint32_t tick;         /* ms added by each send/recv */
    uint32_t now_tick;     /* ms added by each now_ms */
    int connects;
    int closes;
    int connect_rc;
    int connect_fail_count;/* the first N connects fail with connect_rc */
    /* A queue of responses, one per request (NULL entry: a server that
     * never answers). While more are queued, the connection stays open
     * between them (recv returns 0); after the last, it closes. */
    const uint8_t *const *queue; /* "" (length 0): closes unanswered */
    const size_t *queue_len;
    size_t queue_n;
    size_t queue_i;
    bool queue_silent;
    bool close_now;        /* the server closed the idle connection */
    const uint8_t *stray;  /* bytes the server sends while idle */
    size_t stray_len;
    void (*on_send)(struct fake *f); /* runs at each send, before it */
} fake_t;

static int fake_connect(void *ctx, const char *host, size_t host_len,
                        uint16_t port, uint32_t timeout_ms)
{
    fake_t *f = (fake_t *)ctx;
    (void)host;
    (void)host_len;
    (void)port;
    (void)timeout_ms;
    f->connects++;
    f->close_now = false;
    f->stray = NULL;
    if (f->connect_fail_count > 0) {
        f->connect_fail_count--;
        return f->connect_rc;
    }
    return f->connect_rc < 0 && f->queue == NULL ? f->connect_rc : CW_OK;
}

static int32_t fake_send(void *ctx, const uint8_t *buf, size_t len,
                         uint32_t timeout_ms)
{
    fake_t *f = (fake_t *)ctx;
    (void)timeout_ms;
    f->clock += f->tick;
    f->send_calls++;
    if (f->on_send != NULL) {
        f->on_send(f);
    }
    if (f->send_fail_after != 0u && f->sent_len + len > f->send_fail_after) {
        return CW_ERR_IO;
    }
    if (f->queue != NULL && f->in_pos >= f->in_len && !f->queue_silent &&
        f->queue_i < f->queue_n) {
        /* a new request: the server will answer with the next response */
        f->in = f->queue[f->queue_i];
        f->in_len = f->queue_len[f->queue_i];
        f->queue_silent = f->in == NULL;
        f->in_pos = 0;
        f->queue_i++;
    }
    if (f->sent_len + len > sizeof f->sent) {
        len = sizeof f->sent - f->sent_len;
    }
    memcpy(f->sent + f->sent_len, buf, len);
    f->sent_len += len;
    return (int32_t)len;
}

static int32_t fake_recv(void *ctx, uint8_t *buf, size_t len,
                         uint32_t timeout_ms)
{
    fake_t *f = (fake_t *)ctx;
    size_t limit = f->close_after != 0u ? f->close_after : f->in_len;
    size_t n = len;
    (void)timeout_ms;

    f->clock += f->tick;
    if (f->close_now) {
        return CW_ERR_CLOSED;
    }
    if (f->stray != NULL) {
        size_t k = f->stray_len < len ? f->stray_len : len;
        memcpy(buf, f->stray, k);
        f->stray = NULL;
        return (int32_t)k;
    }
    if (f->sent_len == 0u) {
        return 0; /* like a real server: nothing before the request */
    }
    if (f->queue != NULL) {
        if (f->queue_silent) {
            return 0;
        }
        if (f->in_pos >= f->in_len) {
            /* an empty response: the server closed without answering */
            if (f->in != NULL && f->in_len == 0u) {
                return CW_ERR_CLOSED;
            }
            return f->queue_i < f->queue_n ? 0 : CW_ERR_CLOSED;
        }
    }
    if (f->would_block) {
        f->blocked = !f->blocked;
        if (f->blocked) {
            return 0;
        }
    }
    if (f->fail_after != 0u && f->in_pos >= f->fail_after) {
        return f->fail_code;
    }
    if (f->in_pos >= limit) {
        return CW_ERR_CLOSED;
    }
    if (f->sizes != NULL) {
        size_t s = f->sizes[f->k++ % f->nsizes];
        if (s == 0u) {
            return 0;
        }
        if (n > s) {
            n = s;
        }
    }
    if (n > limit - f->in_pos) {
        n = limit - f->in_pos;
    }
    if (f->fail_after != 0u && n > f->fail_after - f->in_pos) {
        n = f->fail_after - f->in_pos;
    }
    memcpy(buf, f->in + f->in_pos, n);
    f->in_pos += n;
    return (int32_t)n;
}

static void fake_close(void *ctx)
{
    fake_t *f = (fake_t *)ctx;
    f->closes++;
    if (f->queue != NULL) {
        /* what was left of the current response is gone with the
         * connection; a silent server stays silent only for its request */
        f->in_pos = f->in_len;
        f->queue_silent = false;
    }
}

static uint32_t fake_now(void *ctx)
{
    fake_t *f = (fake_t *)ctx;
    f->clock += f->now_tick; /* so that a clock-polling wait ends */
    return f->clock;
}

static inline void fake_reset(fake_t *f, const uint8_t *in, size_t len)
{
    memset(f, 0, offsetof(fake_t, sent));
    f->queue = NULL;
    f->queue_len = NULL;
    f->queue_n = 0;
    f->queue_i = 0;
    f->queue_silent = false;
    f->close_now = false;
    f->stray = NULL;
    f->stray_len = 0;
    f->on_send = NULL;
    f->connect_fail_count = 0;
    f->sent_len = 0;
    f->send_calls = 0;
    f->clock = 1000;
    f->tick = 1;
    f->now_tick = 0;
    f->connects = 0;
    f->closes = 0;
    f->connect_rc = CW_OK;
    f->in = in;
    f->in_len = len;
}

static inline cw_transport_t fake_transport(fake_t *f)
{
    cw_transport_t t;
    memset(&t, 0, sizeof t); /* the optional members too */
    t.ctx = f;
    t.connect = fake_connect;
    t.send = fake_send;
    t.recv = fake_recv;
    t.close = fake_close;
    t.now_ms = fake_now;
    return t;
}

/* Reads a file from the test data directory into a static buffer. */
static inline size_t load_data(const char *name, uint8_t *buf, size_t cap)
{
    char path[512];
    FILE *fp;
    size_t n;

    snprintf(path, sizeof path, "%s/%s", CW_TEST_DATA_DIR, name);
    fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

#if defined(CW_TEST_STEP)
#if !CW_CONFIG_NONBLOCKING
#error "CW_TEST_STEP needs the step API (CW_CONFIG_NONBLOCKING)"
#endif
/* Built with CW_TEST_STEP, every cw_chat of a test goes through the step
 * API instead: cw_chat_start, then cw_chat_step until the chat ends. A wait
 * on the transport is not waited (the fake has its bytes, or its next
 * "try again", at once); a wait for time only (a retry's) is waited the way
 * cw_chat would: the sleep hook, or the clock polled. */
static unsigned long cw_test_step_waits; /* CW_ERR_WOULD_BLOCK returns seen */

static inline cw_status_t cw_test_chat(cw_client_t *c,
                                       const cw_chat_request_t *req,
                                       cw_result_t *res)
{
    cw_status_t rc = cw_chat_start(c, req, res);
    unsigned long steps = 0;

    if (rc != CW_OK) {
        return rc;
    }
    for (;;) {
        cw_wait_t w;
        w.fd = 12345;
        w.events = 0xff;
        w.timeout_ms = 0;
        rc = cw_chat_step(c, &w);
        if (rc != CW_ERR_WOULD_BLOCK) {
            return rc;
        }
        cw_test_step_waits++;
        if (w.events > (CW_WAIT_READ | CW_WAIT_WRITE) || w.timeout_ms == 0u ||
            (w.events == 0u && w.fd != -1) || ++steps > 50000000ul) {
            fprintf(stderr, "cw_chat_step: a wait of events %u, fd %d, "
                            "%u ms after %lu steps\n", (unsigned)w.events,
                    w.fd, (unsigned)w.timeout_ms, steps);
            abort();
        }
        if (w.events == 0u) {
            if (c->platform.sleep_ms != NULL) {
                c->platform.sleep_ms(c->platform.ctx, w.timeout_ms);
            } else {
                uint32_t t0 = c->tp.now_ms(c->tp.ctx);
                while (c->tp.now_ms(c->tp.ctx) - t0 < w.timeout_ms) {
                }
            }
        }
    }
}
#define cw_chat(c, req, res) cw_test_chat((c), (req), (res))
#endif

#endif /* FAKE_TRANSPORT_H */
