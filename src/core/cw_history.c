/*
 * cw_history.c - a conversation in caller-owned storage (see chatwire.h).
 *
 * Layout of h->text: for each message in order, its role and its text, each
 * NUL-terminated, back to back; msgs[i].role and msgs[i].content point
 * there. The last message's text ends the used part, so it can grow in
 * place. Dropping a turn moves the rest down and fixes the pointers.
 *
 * With tools (cw_history_init_tools), a message may carry more, still in
 * its own stretch of h->text: an assistant message with tool calls has the
 * calls' arguments after its content (its calls, in h->calls, are kept in
 * message order); a tool message has its call id between role and content.
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

#if CW_CONFIG_TOOLS
/* The tool calls kept with message i. */
static size_t calls_of(const cw_history_t *h, size_t i)
{
    return h->ext != NULL ? h->ext[i].tool_call_count : 0u;
}
#endif

/* Drops message i (and, so that the history goes on with a user message,
 * those after it up to the next "user" one, below `limit`). */
static void drop_turn(cw_history_t *h, size_t i, size_t limit)
{
    size_t n = 0;
    size_t bytes = 0;
    size_t k;
    char *at;
#if CW_CONFIG_TOOLS
    size_t calls = 0;
    size_t first = h->calls_used; /* where the dropped calls begin */
#endif

    do {
#if CW_CONFIG_TOOLS
        if (calls_of(h, i + n) > 0u) {
            if (calls == 0u) {
                first = (size_t)(h->ext[i + n].tool_calls - h->calls);
            }
            calls += calls_of(h, i + n);
        }
#endif
        bytes += msg_bytes(h, i + n);
        n++;
    } while (i + n < limit && strcmp(h->msgs[i + n].role, "user") != 0);
    at = h->text + (h->msgs[i].role - h->text);
    memmove(at, at + bytes, (size_t)(h->text + h->text_used - (at + bytes)));
    h->text_used -= bytes;
#if CW_CONFIG_TOOLS
    if (calls > 0u) {
        memmove(&h->calls[first], &h->calls[first + calls],
                (h->calls_used - first - calls) * sizeof h->calls[0]);
        h->calls_used -= calls;
    }
#endif
    for (k = i; k + n < h->count; k++) {
        h->msgs[k].role = h->msgs[k + n].role - bytes;
        h->msgs[k].content = h->msgs[k + n].content != NULL
                                 ? h->msgs[k + n].content - bytes : NULL;
#if CW_CONFIG_TOOLS
        if (h->ext != NULL) {
            cw_message_ext_t *x = &h->ext[k];
            size_t c;
            *x = h->ext[k + n];
            if (x->tool_call_id != NULL) {
                x->tool_call_id -= bytes;
            }
            if (x->tool_call_count > 0u) {
                cw_tool_call_t *tc = h->calls +
                                     (x->tool_calls - h->calls) - calls;
                x->tool_calls = tc;
                for (c = 0; c < x->tool_call_count; c++) {
                    tc[c].arguments -= bytes; /* its text moved down */
                }
            }
        }
#endif
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
           slots > h->max_msgs - h->count
#if CW_CONFIG_TOOLS
           || h->calls_want > h->max_calls - h->calls_used
#endif
           ) {
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
#if CW_CONFIG_TOOLS
    if (h->ext != NULL) {
        memset(&h->ext[h->count], 0, sizeof h->ext[0]);
    }
#endif
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
    if (h->count == 0u || strcmp(h->msgs[h->count - 1u].role, role) != 0
#if CW_CONFIG_TOOLS
        /* calls (or a call id) end that message: text goes in a new one */
        || (h->ext != NULL && (h->ext[h->count - 1u].tool_call_count > 0u ||
                               h->ext[h->count - 1u].tool_call_id != NULL))
#endif
    ) {
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
                             len);
}

void cw_history_pop(cw_history_t *h)
{
    if (h == NULL || h->count == 0u) {
        return;
    }
    h->count--;
    h->text_used = (size_t)(h->msgs[h->count].role - h->text);
#if CW_CONFIG_TOOLS
    if (h->ext != NULL) {
        h->calls_used -= h->ext[h->count].tool_call_count;
        memset(&h->ext[h->count], 0, sizeof h->ext[0]);
    }
#endif
}

#if CW_CONFIG_TOOLS
void cw_history_init_tools(cw_history_t *h, cw_message_ext_t *ext,
                           cw_tool_call_t *calls, size_t max_calls)
{
    if (h == NULL) {
        return;
    }
    h->ext = ext;
    h->calls = ext != NULL ? calls : NULL;
    h->max_calls = ext != NULL && calls != NULL ? max_calls : 0u;
    h->calls_used = 0;
    if (ext != NULL) {
        memset(ext, 0, h->max_msgs * sizeof ext[0]);
    }
}

/* Bytes the calls' arguments take in h->text (a NUL each), or false when
 * one of them lies in h->text itself (it would move). */
static bool args_bytes(const cw_history_t *h, const cw_tool_call_t *calls,
                       size_t count, size_t *bytes)
{
    size_t k;

    *bytes = 0;
    for (k = 0; k < count; k++) {
        size_t n = calls[k].arguments != NULL ? calls[k].arguments_len : 0u;
        if (!args_ok(h, "x", calls[k].arguments, n) ||
            memchr(calls[k].id, '\0', sizeof calls[k].id) == NULL ||
            calls[k].id[0] == '\0' ||
            memchr(calls[k].name, '\0', sizeof calls[k].name) == NULL ||
            memchr(calls[k].type, '\0', sizeof calls[k].type) == NULL) {
            return false;
        }
        *bytes += n + 1u;
    }
    return true;
}

cw_status_t cw_history_add_tool_calls(cw_history_t *h,
                                      const cw_tool_call_t *calls,
                                      size_t count)
{
    size_t bytes;
    size_t k;
    bool attach;
    char *at;
    cw_message_ext_t *x;
    cw_tool_call_t *kept;
    cw_status_t rc;

    if (h == NULL || h->ext == NULL || calls == NULL || count == 0u ||
        !args_bytes(h, calls, count, &bytes)) {
        return CW_ERR_INVALID_ARG;
    }
    attach = h->count > 0u &&
             strcmp(h->msgs[h->count - 1u].role, "assistant") == 0 &&
             h->ext[h->count - 1u].tool_call_count == 0u;
    if (!attach) {
        bytes += sizeof "assistant";
    }
    if (count > h->max_calls ||
        !could_fit(h, bytes, h->drop_oldest ? (attach ? 1u : 0u) : h->count)) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    h->calls_want = count;
    rc = room_for(h, bytes, attach ? 0u : 1u, attach ? 1u : 0u);
    h->calls_want = 0;
    if (rc != CW_OK) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    at = h->text + h->text_used;
    if (!attach) {
        memcpy(at, "assistant", sizeof "assistant");
        h->msgs[h->count].role = at;
        h->msgs[h->count].content = NULL; /* "content": null */
        memset(&h->ext[h->count], 0, sizeof h->ext[0]);
        at += sizeof "assistant";
        h->count++;
    }
    x = &h->ext[h->count - 1u];
    kept = &h->calls[h->calls_used];
    for (k = 0; k < count; k++) {
        size_t n = calls[k].arguments != NULL ? calls[k].arguments_len : 0u;
        kept[k] = calls[k];
        kept[k].cut = false;
        if (n > 0u) {
            memcpy(at, calls[k].arguments, n);
        }
        at[n] = '\0';
        kept[k].arguments = at;
        kept[k].arguments_len = n;
        at += n + 1u;
    }
    x->tool_calls = kept;
    x->tool_call_count = count;
    h->calls_used += count;
    h->text_used = (size_t)(at - h->text);
    return CW_OK;
}

cw_status_t cw_history_add_tool_result(cw_history_t *h, const char *call_id,
                                       const char *text, size_t len)
{
    size_t idlen;
    char *id;
    cw_status_t rc;

    if (h == NULL || h->ext == NULL || call_id == NULL || call_id[0] == '\0' ||
        !args_ok(h, "tool", call_id, strlen(call_id)) ||
        !args_ok(h, "tool", text, len)) {
        return CW_ERR_INVALID_ARG;
    }
    idlen = strlen(call_id);
    /* the message as cw_history_add lays it out, with the call id first */
    rc = cw_history_add(h, "tool", call_id, idlen);
    if (rc != CW_OK) {
        return rc;
    }
    if (room_for(h, len + 1u, 0, 1) != CW_OK) {
        cw_history_pop(h);
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    id = (char *)h->msgs[h->count - 1u].content; /* "tool\0" + id */
    h->ext[h->count - 1u].tool_call_id = id;
    if (len > 0u) {
        memmove(h->text + h->text_used, text, len);
    }
    h->text[h->text_used + len] = '\0';
    h->msgs[h->count - 1u].content = h->text + h->text_used;
    h->text_used += len + 1u;
    return CW_OK;
}
#endif
