/*
 * fuzz_sse.c - the server-sent events splitter gives the same events however
 * the stream is cut, and the same events as a plain line-by-line reading of
 * the WHATWG event-stream rules.
 *
 * Input: two bytes (little-endian) choosing a split offset, one byte
 * choosing the event buffer size (b < 0xc0: b + 1 bytes, else 4096), one
 * byte choosing the event whose callback returns CW_ERR_ABORTED (0: none),
 * then the stream body. The body is fed whole, in two slices cut at the
 * offset, one byte at a time, and in pseudo-random slices (1..64). Each run
 * records every event (name, length, data) and the first error, then calls
 * cw_sse_finish. All runs must agree with each other and with the reference
 * reader below.
 */
#include "cw_internal.h"
#include "fuzz_common.h"

#define LOG_KEEP 65536u
#define BUF_MAX 4096u
#define RUNS 4

typedef struct run {
    cw_sse_parser_t s;
    char buf[BUF_MAX];
    size_t cap;
    unsigned abort_at;
    int rc;
    bool pending;
    unsigned events;
    uint64_t log_len;
    uint64_t log_hash;
    uint8_t log[LOG_KEEP];
} run_t;

static run_t runs[RUNS + 1]; /* the last one is the reference */

/* Appends one event to the run's log. */
static int record(run_t *r, const char *event, const char *data, size_t len)
{
    uint8_t head[24];
    size_t elen = strlen(event);
    size_t k;

    r->events++;
    memset(head, 0, sizeof head);
    memcpy(head, event, elen); /* elen < 16 */
    memcpy(head + 16, &len, sizeof len < 8u ? sizeof len : 8u);
    r->log_hash = fuzz_hash(r->log_hash, head, sizeof head);
    r->log_hash = fuzz_hash(r->log_hash, data, len);
    for (k = 0; k < 2u; k++) {
        const uint8_t *p = k == 0u ? head : (const uint8_t *)data;
        size_t n = k == 0u ? sizeof head : len;
        if (r->log_len < LOG_KEEP) {
            size_t room = LOG_KEEP - (size_t)r->log_len;
            memcpy(r->log + r->log_len, p, n < room ? n : room);
        }
        r->log_len += n;
    }
    return r->abort_at != 0u && r->events == r->abort_at ? CW_ERR_ABORTED
                                                        : 0;
}

static int on_event(void *user, const char *event, char *data, size_t len)
{
    run_t *r = (run_t *)user;

    FUZZ_CHECK(event != NULL && memchr(event, '\0', 16) != NULL,
               "event name not NUL-terminated within 16 bytes");
    FUZZ_CHECK(data == r->buf, "data does not point at the event buffer");
    FUZZ_CHECK(len < r->cap, "event of %zu bytes in a %zu-byte buffer", len,
               r->cap);
    FUZZ_CHECK(data[len] == '\0', "data not NUL-terminated");
    return record(r, event, data, len);
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static void reset_run(run_t *r, size_t cap, unsigned abort_at)
{
    r->cap = cap;
    r->abort_at = abort_at;
    r->rc = CW_OK;
    r->pending = false;
    r->events = 0;
    r->log_len = 0;
    r->log_hash = FUZZ_HASH_INIT;
}

static void run_one(run_t *r, int m, const uint8_t *d, size_t n, size_t split)
{
    uint32_t rng = (uint32_t)split * 2654435761u + 1u;
    size_t off = 0;

    cw_sse_init(&r->s, r->buf, r->cap, on_event, r);
    while (off < n) {
        size_t left = n - off;
        size_t k;
        int rc;

        switch (m) {
        case 0:
            k = left;
            break;
        case 1:
            k = off < split ? split - off : left;
            break;
        case 2:
            k = 1;
            break;
        default:
            k = 1u + xorshift(&rng) % 64u;
            k = k < left ? k : left;
            break;
        }
        rc = cw_sse_feed(&r->s, d + off, k);
        if (rc != CW_OK) {
            r->rc = rc;
            break;
        }
        off += k;
    }
    if (r->rc == CW_OK) {
        r->pending = cw_sse_finish(&r->s);
    }
}

/* ------------------------------------------------------------ reference */

static bool is_field(const uint8_t *f, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(f, name, n) == 0;
}

/* One complete line (or, when partial, the unterminated last one: then only
 * the data overflow matters). Returns CW_OK or an error. */
static int ref_line(run_t *r, const uint8_t *line, size_t n, bool partial,
                    size_t *dlen, bool *has_data, char *ev)
{
    const uint8_t *colon;
    const uint8_t *v;
    size_t fn;
    size_t vn;
    int rc = CW_OK;

    if (n == 0u) {
        if (!partial && *has_data) {
            r->buf[*dlen] = '\0';
            rc = record(r, ev, r->buf, *dlen);
        }
        *dlen = 0;
        *has_data = false;
        ev[0] = '\0';
        return rc;
    }
    if (line[0] == ':') {
        return CW_OK;
    }
    colon = memchr(line, ':', n);
    if (colon != NULL) {
        fn = (size_t)(colon - line);
        v = colon + 1;
        vn = n - fn - 1u;
        if (vn > 0u && v[0] == ' ') {
            v++;
            vn--;
        }
    } else {
        if (partial) {
            return CW_OK; /* the field is not known until the line ends */
        }
        fn = n;
        v = line + n;
        vn = 0;
    }
    if (is_field(line, fn, "data")) {
        size_t need = *dlen + (*has_data ? 1u : 0u) + vn;
        if (need > r->cap - 1u) {
            return CW_ERR_EVENT_TOO_LARGE;
        }
        if (*has_data) {
            r->buf[(*dlen)++] = '\n';
        }
        memcpy(r->buf + *dlen, v, vn);
        *dlen += vn;
        *has_data = true;
    } else if (is_field(line, fn, "event") && !partial) {
        size_t k = vn < 15u ? vn : 15u;
        memcpy(ev, v, k);
        ev[k] = '\0';
    }
    return CW_OK;
}

static void ref_run(run_t *r, const uint8_t *d, size_t n)
{
    size_t i = 0;
    size_t dlen = 0;
    bool has_data = false;
    char ev[16] = "";
    int rc = CW_OK;

    while (i < n && rc == CW_OK) {
        size_t j = i;
        while (j < n && d[j] != '\r' && d[j] != '\n') {
            j++;
        }
        if (j == n) {
            rc = ref_line(r, d + i, j - i, true, &dlen, &has_data, ev);
            if (rc == CW_OK) {
                r->pending = true; /* an unterminated line */
            }
            break;
        }
        rc = ref_line(r, d + i, j - i, false, &dlen, &has_data, ev);
        i = (d[j] == '\r' && j + 1u < n && d[j + 1u] == '\n') ? j + 2u
                                                              : j + 1u;
    }
    r->rc = rc;
    if (rc == CW_OK && has_data) {
        r->pending = true;
    }
    if (rc != CW_OK) {
        r->pending = false;
    }
}

/* ------------------------------------------------------------ compare */

static void compare(const run_t *a, const run_t *b, const char *what)
{
    FUZZ_CHECK(a->rc == b->rc, "%s: rc %d != %d", what, a->rc, b->rc);
    FUZZ_CHECK(a->events == b->events, "%s: %u events != %u", what,
               a->events, b->events);
    FUZZ_CHECK(a->log_len == b->log_len && a->log_hash == b->log_hash &&
               memcmp(a->log, b->log,
                      a->log_len < LOG_KEEP ? (size_t)a->log_len
                                            : LOG_KEEP) == 0,
               "%s: events differ", what);
    FUZZ_CHECK(a->pending == b->pending, "%s: pending %d != %d", what,
               a->pending, b->pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[RUNS] = {"split", "byte-at-a-time",
                                            "random slices"};
    size_t split;
    size_t cap;
    unsigned abort_at;
    const uint8_t *d;
    size_t n;
    int m;

    if (size < 4u) {
        return 0;
    }
    split = fuzz_u16(data, size);
    cap = data[2] < 0xc0u ? (size_t)data[2] + 1u : BUF_MAX;
    abort_at = data[3];
    d = data + 4;
    n = size - 4u;
    split %= n + 1u;
    for (m = 0; m <= RUNS; m++) {
        reset_run(&runs[m], cap, abort_at);
    }
    for (m = 0; m < RUNS; m++) {
        run_one(&runs[m], m, d, n, split);
    }
    ref_run(&runs[RUNS], d, n);
    compare(&runs[RUNS], &runs[0], "whole vs reference");
    for (m = 1; m < RUNS; m++) {
        compare(&runs[0], &runs[m], names[m - 1]);
    }
    return 0;
}
