/*
 * fuzz_http.c - the HTTP/1.1 response parser gives the same result however
 * the response is cut into slices.
 *
 * Input: two bytes (little-endian) choosing a split offset, then the
 * response. The response is fed four ways, each to its own parser:
 *   1. whole, in one cw_http_feed call;
 *   2. in two slices, cut at the chosen offset (modulo the length + 1);
 *   3. one byte at a time;
 *   4. in slices of pseudo-random sizes (1..64) seeded by the offset.
 * All four must agree on: the return code of the first failing feed, the
 * error offset, bytes consumed, done / headers-done, cw_http_finish's
 * result, cw_http_content_length, every cw_http_info_t field, the number of
 * on_headers calls, and the body (its length, a hash of all of it, and its
 * first BODY_KEEP bytes byte for byte).
 *
 * Invariants checked on every run: on_body data points into the slice being
 * fed and arrives only after the headers; consumed == len whenever the parser
 * wants more; the error offset equals the bytes consumed; kept header
 * strings are NUL-terminated inside their arrays; a complete response with a
 * Content-Length (not 204/304) delivered exactly that many body bytes.
 */
#include "cw_internal.h"
#include "fuzz_common.h"

#define BODY_KEEP 65536u
#define RUNS 4

typedef struct run {
    cw_http_parser_t p;
    cw_http_info_t info;
    const uint8_t *slice; /* the slice being fed, for the pointer check */
    size_t slice_len;
    int rc;
    uint64_t err_off;
    size_t consumed;
    bool done;
    bool headers_done;
    int finish_rc;
    bool has_cl;
    uint64_t cl;
    unsigned headers_calls;
    uint64_t body_len;
    uint64_t body_hash;
    uint8_t body[BODY_KEEP];
} run_t;

static run_t runs[RUNS];

static int on_headers(void *user)
{
    run_t *r = (run_t *)user;
    FUZZ_CHECK(cw_http_headers_done(&r->p), "on_headers before headers done");
    r->headers_calls++;
    return 0;
}

static int on_body(void *user, const uint8_t *data, size_t len)
{
    run_t *r = (run_t *)user;
    size_t keep;

    FUZZ_CHECK(len > 0u, "empty on_body call");
    FUZZ_CHECK(fuzz_inside(data, len, r->slice, r->slice_len),
               "on_body data (%zu bytes) outside the fed slice", len);
    FUZZ_CHECK(r->headers_calls == 1u, "on_body before on_headers");
    if (r->body_len < BODY_KEEP) {
        keep = BODY_KEEP - (size_t)r->body_len;
        if (keep > len) {
            keep = len;
        }
        memcpy(r->body + r->body_len, data, keep);
    }
    r->body_len += len;
    r->body_hash = fuzz_hash(r->body_hash, data, len);
    return 0;
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

/* Slice length for the next feed in mode m. */
static size_t next_len(int m, size_t off, size_t n, size_t split,
                       uint32_t *rng)
{
    size_t left = n - off;
    size_t k;

    switch (m) {
    case 0:
        return left;
    case 1:
        return off < split ? split - off : left;
    case 2:
        return left < 1u ? left : 1u;
    default:
        k = 1u + xorshift(rng) % 64u;
        return k < left ? k : left;
    }
}

static void str_ok(const char *s, size_t size, const char *what)
{
    FUZZ_CHECK(memchr(s, '\0', size) != NULL, "%s not NUL-terminated", what);
}

static void run_one(run_t *r, int m, const uint8_t *d, size_t n, size_t split)
{
    uint32_t rng = (uint32_t)split * 2654435761u + 1u;
    size_t off = 0;

    cw_http_init(&r->p, &r->info, on_headers, on_body, r);
    r->rc = CW_OK;
    r->err_off = 0;
    r->consumed = 0;
    r->headers_calls = 0;
    r->body_len = 0;
    r->body_hash = FUZZ_HASH_INIT;
    r->finish_rc = 1; /* not called */

    /* An empty response is still fed once, with len 0. */
    do {
        size_t k = next_len(m, off, n, split, &rng);
        size_t used = (size_t)-1;
        int rc;

        r->slice = d + off;
        r->slice_len = k;
        rc = cw_http_feed(&r->p, d + off, k, &used);
        if (rc != CW_OK) {
            FUZZ_CHECK(rc < 0, "positive return %d", rc);
            FUZZ_CHECK(used <= k, "consumed %zu > %zu", used, k);
            r->rc = rc;
            r->consumed += used;
            r->err_off = cw_http_error_offset(&r->p);
            break;
        }
        FUZZ_CHECK(used <= k, "consumed %zu > %zu", used, k);
        r->consumed += used;
        if (cw_http_done(&r->p)) {
            break;
        }
        FUZZ_CHECK(used == k, "not done but consumed %zu of %zu", used, k);
        off += k;
    } while (off < n);

    r->done = cw_http_done(&r->p);
    r->headers_done = cw_http_headers_done(&r->p);
    r->has_cl = cw_http_content_length(&r->p, &r->cl);
    if (!r->has_cl) {
        r->cl = 0;
    }
    if (r->rc == CW_OK) {
        r->finish_rc = cw_http_finish(&r->p);
        FUZZ_CHECK(r->finish_rc == CW_OK || r->finish_rc == CW_ERR_CLOSED,
                   "cw_http_finish returned %d", r->finish_rc);
        FUZZ_CHECK((r->finish_rc == CW_OK) == cw_http_done(&r->p),
                   "finish/done disagree");
    } else {
        FUZZ_CHECK(r->err_off == r->consumed,
                   "error offset %llu != consumed %zu",
                   (unsigned long long)r->err_off, r->consumed);
        FUZZ_CHECK(!r->done, "error and done");
    }

    /* invariants */
    FUZZ_CHECK(r->consumed <= n, "consumed %zu > %zu", r->consumed, n);
    FUZZ_CHECK(r->headers_calls <= 1u, "on_headers called %u times",
               r->headers_calls);
    FUZZ_CHECK(r->headers_done == (r->headers_calls == 1u),
               "headers done %d but %u calls", r->headers_done,
               r->headers_calls);
    FUZZ_CHECK(r->body_len <= r->consumed, "more body than input");
    if (r->headers_done) {
        FUZZ_CHECK(r->info.status >= 200 && r->info.status <= 999,
                   "final status %d", r->info.status);
    }
    if (r->done && r->has_cl && r->info.status != 204 &&
        r->info.status != 304) {
        FUZZ_CHECK(r->body_len == r->cl, "body %llu != Content-Length %llu",
                   (unsigned long long)r->body_len,
                   (unsigned long long)r->cl);
    }
    str_ok(r->info.content_type, sizeof r->info.content_type,
           "content_type");
    str_ok(r->info.request_id, sizeof r->info.request_id, "request_id");
    str_ok(r->info.retry_after, sizeof r->info.retry_after, "retry_after");
    str_ok(r->info.ratelimit_reset_requests,
           sizeof r->info.ratelimit_reset_requests, "reset_requests");
    str_ok(r->info.ratelimit_reset_tokens,
           sizeof r->info.ratelimit_reset_tokens, "reset_tokens");
    FUZZ_CHECK(r->info.should_retry >= -1 && r->info.should_retry <= 1,
               "should_retry %d", r->info.should_retry);
}

#define SAME(field, fmt, cast)                                              \
    FUZZ_CHECK(a->field == b->field, "mode %d: " #field " " fmt " != " fmt, \
               m, (cast)a->field, (cast)b->field)

static void compare(const run_t *a, const run_t *b, int m)
{
    const cw_http_info_t *x = &a->info;
    const cw_http_info_t *y = &b->info;

    SAME(rc, "%d", int);
    SAME(err_off, "%llu", unsigned long long);
    SAME(consumed, "%zu", size_t);
    SAME(done, "%d", int);
    SAME(headers_done, "%d", int);
    SAME(finish_rc, "%d", int);
    SAME(has_cl, "%d", int);
    SAME(cl, "%llu", unsigned long long);
    SAME(headers_calls, "%u", unsigned);
    SAME(body_len, "%llu", unsigned long long);
    SAME(body_hash, "%llx", unsigned long long);
    FUZZ_CHECK(memcmp(a->body, b->body,
                      a->body_len < BODY_KEEP ? (size_t)a->body_len
                                              : BODY_KEEP) == 0,
               "mode %d: body bytes differ", m);
    SAME(info.status, "%d", int);
    SAME(info.retry_after_ms, "%lld", long long);
    SAME(info.should_retry, "%d", int);
    SAME(info.keep_alive, "%d", int);
    SAME(info.ratelimit_remaining_requests, "%lld", long long);
    SAME(info.ratelimit_remaining_tokens, "%lld", long long);
    SAME(info.truncated, "%u", unsigned);
    FUZZ_CHECK(strcmp(x->content_type, y->content_type) == 0 &&
               strcmp(x->request_id, y->request_id) == 0 &&
               strcmp(x->retry_after, y->retry_after) == 0 &&
               strcmp(x->ratelimit_reset_requests,
                      y->ratelimit_reset_requests) == 0 &&
               strcmp(x->ratelimit_reset_tokens,
                      y->ratelimit_reset_tokens) == 0,
               "mode %d: header strings differ", m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t split;
    const uint8_t *d;
    size_t n;
    int m;

    if (size < 2u) {
        return 0;
    }
    split = fuzz_u16(data, size);
    d = data + 2;
    n = size - 2u;
    split %= n + 1u;
    for (m = 0; m < RUNS; m++) {
        run_one(&runs[m], m, d, n, split);
    }
    for (m = 1; m < RUNS; m++) {
        compare(&runs[0], &runs[m], m);
    }
    return 0;
}
