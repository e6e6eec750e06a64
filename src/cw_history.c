/*
 * cw_history.c - a conversation in caller-owned storage (see chatwire.h).
 *
 * Layout of h->text: for each message in order, its role and its text, each
 * NUL-terminated, back to back; msgs[i].role and msgs[i].content point
 * there. The last message's text ends the used part, so it can grow in
 * place. Dropping a turn moves the rest down and fixes the pointers.
 */
#include "cw_internal.h"

#include <string.h>

void cw_history_init(cw_history_t *h, cw_message_t *msgs, size_t max_msgs,
                     char *text, size_t text_size)
{
    if (h == NULL) {
        return;
    }
    memset(h, 0, sizeof *h);
    h->msgs = msgs;
    h->max_msgs = msgs != NULL ? max_msgs : 0u;
    h->text = text;
    h->text_size = text != NULL ? text_size : 0u;
}

/* Bytes message i takes in h->text. */
static size_t msg_bytes(const cw_history_t *h, size_t i)
{
    const char *end = i + 1u < h->count ? h->msgs[i + 1u].role
                                        : h->text + h->text_used;
    return (size_t)(end - h->msgs[i].role);
}

/* Drops message i (and, so that the history goes on with a user message,
 * those after it up to the next "user" one, below `limit`). */
static void drop_turn(cw_history_t *h, size_t i, size_t limit)
{
    size_t n = 0;
    size_t bytes = 0;
    size_t k;
    char *at;

    do {
        bytes += msg_bytes(h, i + n);
        n++;
    } while (i + n < limit && strcmp(h->msgs[i + n].role, "user") != 0);
    at = h->text + (h->msgs[i].role - h->text);
    memmove(at, at + bytes, (size_t)(h->text + h->text_used - (at + bytes)));
    h->text_used -= bytes;
    for (k = i; k + n < h->count; k++) {
        h->msgs[k].role = h->msgs[k + n].role - bytes;
        h->msgs[k].content = h->msgs[k + n].content - bytes;
    }
    h->count -= n;
    h->dropped += (uint32_t)n;
}

/* Makes room for `bytes` more text and `slots` more messages, dropping old
 * turns when allowed; keep_tail newest messages are never dropped. */
static cw_status_t room_for(cw_history_t *h, size_t bytes, size_t slots,
                            size_t keep_tail)
{
    while (bytes > h->text_size - h->text_used ||
           slots > h->max_msgs - h->count) {
        size_t limit = h->count > keep_tail ? h->count - keep_tail : 0u;
        if (!h->drop_oldest || h->pinned >= limit) {
            return CW_ERR_BUFFER_TOO_SMALL;
        }
        drop_turn(h, h->pinned, limit);
    }
    return CW_OK;
}

static bool args_ok(const cw_history_t *h, const char *role,
                    const char *text, size_t len)
{
    uintptr_t t = (uintptr_t)text;
    uintptr_t own = h != NULL ? (uintptr_t)h->text : 0u;

    /* text from the history itself could move while old turns drop */
    return h != NULL && role != NULL && role[0] != '\0' &&
           (text != NULL || len == 0u) &&
           (text == NULL || t + len <= own || t >= own + h->text_size);
}

/* Whether dropping could ever make the new text fit: if not, fail before
 * dropping anything. */
static bool could_fit(const cw_history_t *h, size_t bytes, size_t keep_tail)
{
    size_t fixed = 0;
    size_t i;
    size_t tail = h->count > keep_tail ? h->count - keep_tail : 0u;

    for (i = 0; i < h->count; i++) {
        if (i < h->pinned || i >= tail) {
            fixed += msg_bytes(h, i);
        }
    }
    return bytes <= h->text_size - fixed;
}

cw_status_t cw_history_add(cw_history_t *h, const char *role,
                           const char *text, size_t len)
{
    size_t rlen;
    size_t need;
    char *at;

    if (!args_ok(h, role, text, len)) {
        return CW_ERR_INVALID_ARG;
    }
    rlen = strlen(role);
    need = rlen + 1u + len + 1u;
    if (h->max_msgs == 0u || need < len ||
        !could_fit(h, need, h->drop_oldest ? 1u : h->count) ||
        (!h->drop_oldest &&
         (need > h->text_size - h->text_used || h->count == h->max_msgs))) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    if (room_for(h, need, 1, 1) != CW_OK) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    at = h->text + h->text_used;
    memcpy(at, role, rlen + 1u);
    if (len > 0u) {
        memmove(at + rlen + 1u, text, len);
    }
    at[rlen + 1u + len] = '\0';
    h->msgs[h->count].role = at;
    h->msgs[h->count].content = at + rlen + 1u;
    h->count++;
    h->text_used += need;
    return CW_OK;
}

cw_status_t cw_history_append(cw_history_t *h, const char *role,
                              const char *text, size_t len)
{
    char *end;

    if (!args_ok(h, role, text, len)) {
        return CW_ERR_INVALID_ARG;
    }
    if (h->count == 0u || strcmp(h->msgs[h->count - 1u].role, role) != 0) {
        return cw_history_add(h, role, text, len);
    }
    if (!could_fit(h, len, h->drop_oldest ? 2u : h->count) ||
        room_for(h, len, 0, 2) != CW_OK) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    end = h->text + h->text_used - 1u; /* the last message's NUL */
    if (len > 0u) {
        memmove(end, text, len);
    }
    end[len] = '\0';
    h->text_used += len;
    return CW_OK;
}

int cw_history_on_delta(void *history, const char *text, size_t len)
{
    return cw_history_append((cw_history_t *)history, "assistant", text,
                             len) == CW_OK ? 0 : 1;
}

void cw_history_pop(cw_history_t *h)
{
    if (h == NULL || h->count == 0u) {
        return;
    }
    h->count--;
    h->text_used = (size_t)(h->msgs[h->count].role - h->text);
}
