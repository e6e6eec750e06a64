/*
 * cw_sse.c - server-sent events (text/event-stream) splitter.
 *
 * Follows the WHATWG event-stream interpretation: lines end with CRLF, LF or
 * CR (a CRLF split across two feeds is still one line end); "data" lines are
 * joined with '\n'; "event" names the event; "id", "retry" and unknown
 * fields are ignored; lines starting with ':' are comments (servers send
 * them as keep-alives); a blank line dispatches the event, and an event with
 * no data line is not dispatched. One leading space after the colon is not
 * part of the value.
 *
 * Only the data of the event being built is stored, in the caller's buffer;
 * an event larger than it is CW_ERR_EVENT_TOO_LARGE, never cut.
 */
#include "cw_internal.h"

#include <string.h>

enum {
    S_LINE_START,
    S_FIELD,
    S_VALUE_SPACE, /* just after ':', an optional space */
    S_VALUE,
    S_IGNORE,      /* comment, or a field we do not keep */
    S_ERROR
};

enum { FIELD_DATA = 1, FIELD_EVENT = 2 };

#define F_CR 0x01u       /* the previous byte was a CR */
#define F_HAS_DATA 0x02u /* the event has a data line */
#define F_FIELD_MASK 0x0cu
#define F_FIELD_SHIFT 2u

static unsigned field_of(const cw_sse_parser_t *s)
{
    return (unsigned)(s->flags & F_FIELD_MASK) >> F_FIELD_SHIFT;
}

static void set_field(cw_sse_parser_t *s, unsigned field)
{
    s->flags = (uint8_t)((s->flags & ~F_FIELD_MASK) |
                         ((field << F_FIELD_SHIFT) & F_FIELD_MASK));
}

void cw_sse_init(cw_sse_parser_t *s, char *buf, size_t cap,
                 cw_sse_event_fn on_event, void *user)
{
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->cap = cap;
    s->on_event = on_event;
    s->user = user;
    s->state = S_LINE_START;
}

static int append(cw_sse_parser_t *s, const uint8_t *data, size_t n)
{
    /* one byte is kept for the NUL given to on_event */
    if (s->cap == 0u || n > s->cap - 1u - s->len) {
        return CW_ERR_EVENT_TOO_LARGE;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return CW_OK;
}

/* The field name (s->name, s->nlen) ended with ':' or the line end. */
static int field_begin(cw_sse_parser_t *s)
{
    set_field(s, 0);
    if (s->nlen == 4u && memcmp(s->name, "data", 4) == 0) {
        if ((s->flags & F_HAS_DATA) != 0u) {
            static const uint8_t nl = '\n';
            int rc = append(s, &nl, 1);
            if (rc != CW_OK) {
                return rc;
            }
        }
        s->flags |= F_HAS_DATA;
        set_field(s, FIELD_DATA);
    } else if (s->nlen == 5u && memcmp(s->name, "event", 5) == 0) {
        s->elen = 0;
        s->event[0] = '\0';
        set_field(s, FIELD_EVENT);
    }
    return CW_OK;
}

static int dispatch(cw_sse_parser_t *s)
{
    int rc = CW_OK;

    if ((s->flags & F_HAS_DATA) != 0u) {
        s->buf[s->len] = '\0';
        rc = s->on_event(s->user, s->event, s->buf, s->len);
    }
    s->len = 0;
    s->elen = 0;
    s->event[0] = '\0';
    s->flags = (uint8_t)(s->flags & F_CR);
    return rc;
}

/* A line ended (the CR or LF is not part of it). */
static int line_end(cw_sse_parser_t *s)
{
    int rc = CW_OK;

    switch (s->state) {
    case S_LINE_START:
        rc = dispatch(s);
        break;
    case S_FIELD:
        rc = field_begin(s); /* "data" alone: an empty data line */
        break;
    default:
        break;
    }
    s->state = S_LINE_START;
    set_field(s, 0);
    return rc;
}

int cw_sse_feed(cw_sse_parser_t *s, const uint8_t *data, size_t len)
{
    size_t i = 0;
    int rc = CW_OK;
#if CW_CONFIG_STREAM_FAST_PATHS
    /* the next CR at or after data[i] (len: none), searched once for the
     * whole input while it lies ahead: servers rarely send one */
    size_t cr = 0;
    bool cr_known = false;
#endif

    if (s->state == S_ERROR || s->cap == 0u || s->buf == NULL) {
        return CW_ERR_EVENT_TOO_LARGE; /* no room even for the NUL */
    }
    while (i < len && rc == CW_OK) {
        uint8_t ch = data[i];

        if (ch == '\n' && (s->flags & F_CR) != 0u) {
            s->flags = (uint8_t)(s->flags & ~F_CR); /* LF of a CRLF */
            i++;
            continue;
        }
        s->flags = (uint8_t)(s->flags & ~F_CR);
        if (ch == '\r' || ch == '\n') {
            if (ch == '\r') {
                s->flags |= F_CR;
            }
            rc = line_end(s);
            i++;
            continue;
        }
        switch (s->state) {
        case S_LINE_START:
#if CW_CONFIG_STREAM_FAST_PATHS
            if (ch == 'd' && len - i > 6u && data[i + 1u] == 'a' &&
                data[i + 2u] == 't' && data[i + 3u] == 'a' &&
                data[i + 4u] == ':' && data[i + 5u] == ' ') {
                /* the usual line start at once: what "data:" and the
                 * space do byte by byte (field_begin's for "data") */
                if ((s->flags & F_HAS_DATA) != 0u) {
                    rc = append(s, (const uint8_t *)"\n", 1);
                }
                s->flags |= F_HAS_DATA;
                set_field(s, FIELD_DATA);
                s->state = S_VALUE;
                i += 6u;
                continue;
            }
#endif
            if (ch == ':') {
                s->state = S_IGNORE;
                break;
            }
            s->nlen = 0;
            s->state = S_FIELD;
            /* fall through */
        case S_FIELD:
            if (ch == ':') {
                rc = field_begin(s);
                s->state = S_VALUE_SPACE;
            } else if (s->nlen < sizeof s->name) {
                s->name[s->nlen++] = (char)ch;
            } else {
                s->nlen = 0xffu; /* too long for a field we keep */
            }
            break;
        case S_VALUE_SPACE:
            s->state = S_VALUE;
            if (ch == ' ') {
                break;
            }
            /* fall through */
        case S_VALUE:
            if (field_of(s) == FIELD_DATA) {
                /* copy the run of bytes up to the line end at once */
#if CW_CONFIG_STREAM_FAST_PATHS
                /* found with memchr, a word at a time in most C libraries
                 * (newlib's for Cortex-M: a third of the byte loop's
                 * instructions) */
                size_t n = len - i;
                const uint8_t *e = memchr(data + i, '\n', n);
                if (e != NULL) {
                    n = (size_t)(e - data) - i;
                }
                if (!cr_known || cr < i) {
                    e = memchr(data + i, '\r', len - i);
                    cr = e != NULL ? (size_t)(e - data) : len;
                    cr_known = true;
                }
                if (cr - i < n) {
                    n = cr - i;
                }
                rc = append(s, data + i, n);
                i += n;
                if (rc == CW_OK && len - i >= 2u && data[i] == '\n' &&
                    data[i + 1u] == '\n') {
                    /* the line end and the blank line that ends the
                     * event, as the byte loop takes them (line_end twice:
                     * nothing to do for a value, then the dispatch) */
                    s->state = S_LINE_START;
                    set_field(s, 0);
                    rc = dispatch(s);
                    i += 2u;
                }
#else
                size_t n = 0;
                while (n < len - i && data[i + n] != '\r' &&
                       data[i + n] != '\n') {
                    n++;
                }
                rc = append(s, data + i, n);
                i += n;
#endif
                continue;
            }
            if (field_of(s) == FIELD_EVENT &&
                s->elen + 1u < sizeof s->event) {
                s->event[s->elen++] = (char)ch;
                s->event[s->elen] = '\0';
            }
            break;
        default: /* S_IGNORE */
            break;
        }
        i++;
    }
    if (rc != CW_OK) {
        s->state = S_ERROR;
    }
    return rc;
}

bool cw_sse_finish(cw_sse_parser_t *s)
{
    bool pending = (s->flags & F_HAS_DATA) != 0u || s->state != S_LINE_START;
    s->len = 0;
    s->flags = 0;
    s->state = S_LINE_START;
    return pending;
}
