/*
 * multiturn.c - a conversation: each answer goes into the next request.
 *
 *   COMETAPI_KEY=... multiturn [--stream] "first question" "second" ...
 *
 * Each argument is one user turn. The history (the messages and their text)
 * lives in cw_history_t storage that this program owns: res.content points
 * into the client's work buffer, which the next response overwrites, so an
 * answer is copied into the history before the next call (cw_history_add),
 * or, streamed, appended to it as it arrives (cw_history_on_delta). The
 * oldest turns are dropped when the storage is full; the system prompt is
 * pinned. CHATWIRE_BASE_URL and CHATWIRE_CA point it elsewhere (the tests
 * use the local server).
 */
#include "chatwire.h"
#include "cw_posix.h"
#include "cw_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cw_message_t msgs[16];
static char text[16384];
static cw_history_t history;

/* Streamed: keep the piece in the history, and show it. */
static int on_delta(void *user, const char *piece, size_t len)
{
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return cw_history_on_delta(user, piece, len);
}

int main(int argc, char **argv)
{
    static cw_posix_t sock;
    static cw_tls_t tls;
    static cw_client_t client;
    static uint8_t io[2048], work[16384];
    static const char system_prompt[] = "You are a helpful assistant.";
    cw_tls_config_t tls_cfg = { .ca_file = getenv("CHATWIRE_CA") };
    bool stream = argc > 1 && strcmp(argv[1], "--stream") == 0;
    int first = stream ? 2 : 1;
    int turn;
    int rc = CW_OK;

    cw_posix_init(&sock);
    if (cw_tls_init(&tls, cw_posix_transport(&sock), &tls_cfg) != CW_OK) {
        fprintf(stderr, "multiturn: %s\n", cw_tls_error(&tls));
        return 1;
    }
    cw_client_config_t cfg = { .transport = cw_tls_transport(&tls),
                               .base_url = getenv("CHATWIRE_BASE_URL"),
                               .api_key = getenv("COMETAPI_KEY"),
                               .io_buf = io, .io_size = sizeof io,
                               .work_buf = work, .work_size = sizeof work,
                               .platform = cw_posix_platform() };
    if (cw_client_init(&client, &cfg) != CW_OK) {
        fprintf(stderr, "multiturn: bad base URL\n");
        return 1;
    }
    /* [history] */
    cw_history_init(&history, msgs, 16, text, sizeof text);
    cw_history_add(&history, "system", system_prompt, strlen(system_prompt));
    history.pinned = 1;
    history.drop_oldest = true;

    for (turn = first; turn < argc; turn++) {
        cw_chat_request_t req;
        cw_result_t res;

        if (cw_history_add(&history, "user", argv[turn],
                           strlen(argv[turn])) != CW_OK) {
            fprintf(stderr, "multiturn: a prompt larger than the history\n");
            rc = CW_ERR_BUFFER_TOO_SMALL;
            break;
        }
        /* built from the history as it is now; a streamed answer lands in
         * a message after these, so the request does not change */
        cw_chat_request_init(&req, history.msgs, history.count);
        req.stream = stream;
        req.on_delta = on_delta;
        req.on_delta_user = &history;
        rc = cw_chat(&client, &req, &res);
        if (rc == CW_OK && !stream) {
            fwrite(res.content, 1, res.content_len, stdout);
            rc = cw_history_add(&history, "assistant", res.content,
                                res.content_len);
        }
        printf("\n[turn %d: %s, %u attempt%s, %zu messages]\n", turn - first + 1,
               cw_strerror(rc), (unsigned)res.attempts,
               res.attempts == 1u ? "" : "s", history.count);
        if (rc != CW_OK) {
            fprintf(stderr, "multiturn: %s%s%s\n", cw_strerror(rc),
                    res.detail[0] != '\0' ? ": " : "", res.detail);
            if (res.partial || (stream && history.count > 0u &&
                                strcmp(history.msgs[history.count - 1u].role,
                                       "assistant") == 0)) {
                cw_history_pop(&history); /* the partial answer */
            }
            cw_history_pop(&history); /* the unanswered prompt */
            break;
        }
    }
    /* [history] */
    cw_client_close(&client);
    cw_tls_free(&tls);
    return rc == CW_OK ? 0 : 1;
}
