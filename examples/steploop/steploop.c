/*
 * steploop.c - several chats at once in one thread: the step API under an
 * event loop of one's own (here poll()).
 *
 *   COMETAPI_KEY=... steploop "first question" "second" ...
 *
 * Each argument is a chat on its own connection. cw_chat_start checks the
 * request; cw_chat_step then goes as far as it can without blocking and
 * says what it waits for: a socket to become readable or writable, a time
 * (a retry's wait), or both. The loop waits for the first of those across
 * all chats and steps them again. Each answer streams to its own buffer
 * and is printed when its chat ends. CHATWIRE_BASE_URL and CHATWIRE_CA
 * point it elsewhere (the tests use the local server).
 */
#include "chatwire.h"
#include "cw_posix.h"
#include "cw_tls.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHATS 8

typedef struct chat {
    cw_posix_t sock;
    cw_tls_t tls;
    cw_client_t client;
    cw_message_t msg;
    cw_chat_request_t req;
    cw_result_t res;
    cw_wait_t wait;
    bool running;
    size_t len;
    char answer[4096];
    uint8_t io[2048];
    uint8_t work[8192];
} chat_t;

static chat_t chats[MAX_CHATS];

static int on_delta(void *user, const char *text, size_t len)
{
    chat_t *c = user;
    if (c->len + len >= sizeof c->answer) {
        return 1; /* stops the chat: CW_ERR_ABORTED */
    }
    memcpy(c->answer + c->len, text, len);
    c->len += len;
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc - 1 < MAX_CHATS ? argc - 1 : MAX_CHATS;
    int running = 0;
    int failed = 0;

    for (int i = 0; i < n; i++) {
        chat_t *c = &chats[i];
        cw_tls_config_t tls_cfg = { .ca_file = getenv("CHATWIRE_CA") };
        cw_posix_init(&c->sock);
        if (cw_tls_init(&c->tls, cw_posix_transport(&c->sock),
                        &tls_cfg) != CW_OK) {
            fprintf(stderr, "steploop: %s\n", cw_tls_error(&c->tls));
            return 1;
        }
        cw_client_config_t cfg = { .transport = cw_tls_transport(&c->tls),
                                   .base_url = getenv("CHATWIRE_BASE_URL"),
                                   .api_key = getenv("COMETAPI_KEY"),
                                   .io_buf = c->io, .io_size = sizeof c->io,
                                   .work_buf = c->work,
                                   .work_size = sizeof c->work };
        if (cw_client_init(&c->client, &cfg) != CW_OK) {
            fprintf(stderr, "steploop: bad base URL\n");
            return 1;
        }
        c->msg = (cw_message_t){ "user", argv[i + 1] };
        cw_chat_request_init(&c->req, &c->msg, 1);
        c->req.stream = true;
        c->req.on_delta = on_delta;
        c->req.on_delta_user = c;
        if (cw_chat_start(&c->client, &c->req, &c->res) != CW_OK) {
            fprintf(stderr, "steploop: chat %d: %s\n", i, c->res.detail);
            return 1;
        }
        /* nothing to wait for before the first step */
        c->wait = (cw_wait_t){ .fd = -1, .events = 0, .timeout_ms = 0 };
        c->running = true;
        running++;
    }
    while (running > 0) {
        struct pollfd fds[MAX_CHATS];
        nfds_t k = 0;
        uint32_t timeout = UINT32_MAX;
        for (int i = 0; i < n; i++) {
            const cw_wait_t *w = &chats[i].wait;
            if (!chats[i].running) {
                continue;
            }
            if (w->timeout_ms < timeout) {
                timeout = w->timeout_ms;
            }
            if (w->fd >= 0) {
                fds[k].fd = w->fd;
                fds[k].events = (short)(((w->events & CW_WAIT_READ) ? POLLIN : 0) |
                                        ((w->events & CW_WAIT_WRITE) ? POLLOUT : 0));
                fds[k].revents = 0;
                k++;
            }
        }
        /* the shortest wait of any chat bounds the poll (each chat's own
         * timeouts are measured by the library; stepping early is fine) */
        poll(fds, k, timeout > 60000u ? 60000 : (int)timeout);
        for (int i = 0; i < n; i++) {
            chat_t *c = &chats[i];
            if (!c->running) {
                continue;
            }
            cw_status_t rc = cw_chat_step(&c->client, &c->wait);
            if (rc == CW_ERR_WOULD_BLOCK) {
                continue; /* c->wait says for what */
            }
            c->running = false;
            running--;
            if (rc == CW_OK) {
                printf("%d: %.*s\n", i, (int)c->len, c->answer);
            } else {
                printf("%d: error: %s %s\n", i, cw_strerror(rc),
                       c->res.detail);
                failed++;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        cw_client_close(&chats[i].client);
        cw_tls_free(&chats[i].tls);
    }
    return failed > 0 ? 1 : 0;
}
