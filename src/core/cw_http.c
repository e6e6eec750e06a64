/*
 * cw_http.c - incremental HTTP/1.1 response parser.
 *
 * A byte-driven state machine: it holds no line buffer, so a response may be
 * fed in slices of any size, down to one byte, and gives the same result.
 * Header names are collected (lower-cased, up to 31 bytes) and looked up in
 * the short list of headers chatwire keeps at the ':'; kept values are
 * written straight into cw_http_info_t. Runs of bytes that need no decision
 * (a name, a reason phrase, a value, a trailer) are passed over in one step,
 * bounded by the line and section limits. Body bytes are
 * handed to on_body as pointers into the caller's input (no copy).
 *
 * Accepted: "HTTP/1.x NNN[ reason]" status lines, CRLF or bare LF line ends,
 * 1xx interim responses (skipped), Content-Length, Transfer-Encoding with
 * chunked last (chunk extensions and trailers skipped), close-delimited
 * bodies. Refused with CW_ERR_MALFORMED: anything else in those places,
 * obsolete line folding, conflicting Content-Lengths, chunk sizes that
 * overflow, a missing CRLF after chunk data, 101 Switching Protocols.
 */
#include "cw_internal.h"

#include <string.h>

enum {
    S_STATUS,        /* "HTTP/1.x NNN" */
    S_REASON,        /* reason phrase up to the line end */
    S_NAME_START,    /* start of a header line, or the blank line */
    S_NAME,          /* header name */
    S_VALUE_WS,      /* optional white space before the value */
    S_VALUE,         /* header value */
    S_BODY_CL,       /* Content-Length body */
    S_BODY_CLOSE,    /* body up to the connection's close */
    S_CHUNK_SIZE,    /* hex digits */
    S_CHUNK_EXT,     /* white space and ";ext" up to the line end */
    S_CHUNK_DATA,
    S_CHUNK_DATA_END,/* CRLF after chunk data */
    S_TRAILER_START, /* start of a trailer line, or the blank line */
    S_TRAILER,       /* a trailer line, skipped */
    S_DONE,
    S_ERROR
};

/* flags */
#define F_CR 0x01u        /* a CR was seen: the next byte must be LF */
#define F_CHUNKED 0x02u
#define F_HAS_CL 0x04u
#define F_CLOSE 0x08u     /* Connection: close */
#define F_KEEP 0x10u      /* Connection: keep-alive */
#define F_HAS_TE 0x20u
#define F_HEADERS 0x40u   /* header section complete */
#define F_HEAD_ONLY 0x80u /* no body follows the headers */

/* vflags, per header value */
#define V_DIGITS 0x01u    /* at least one digit read */
#define V_END 0x02u       /* the number ended (white space or '.') */
#define V_BAD 0x04u       /* not a number */
#define V_FRACTION 0x08u  /* in the fractional part */
#define V_TOKLONG 0x10u   /* the current token did not fit in scratch */
#define V_CHUNKED 0x20u   /* the last transfer coding is "chunked" */

/* Kept headers, in the order of header_table. Those compiled out
 * (chatwire_config.h) come after H_COUNT: no name maps to them. */
enum {
    H_CONTENT_LENGTH,
    H_TRANSFER_ENCODING,
    H_CONNECTION,
    H_CONTENT_TYPE,
    H_REQUEST_ID,
#if CW_CONFIG_RETRIES
    H_RETRY_AFTER,
    H_RETRY_AFTER_MS,
    H_SHOULD_RETRY,
#endif
#if CW_CONFIG_RATELIMIT_HEADERS
    H_REMAINING_REQUESTS,
    H_REMAINING_TOKENS,
    H_RESET_REQUESTS,
    H_RESET_TOKENS,
#endif
    H_COUNT,
#if !CW_CONFIG_RETRIES
    H_RETRY_AFTER,
    H_RETRY_AFTER_MS,
    H_SHOULD_RETRY,
#endif
#if !CW_CONFIG_RATELIMIT_HEADERS
    H_REMAINING_REQUESTS,
    H_REMAINING_TOKENS,
    H_RESET_REQUESTS,
    H_RESET_TOKENS,
#endif
    H_NONE = 0xff
};

/* Whether header h is kept in this build (a constant for the compiler). */
#define KEPT(h) ((h) < H_COUNT)

/* The kept names, lower-case, each after its length. */
static const char header_table[] =
    "\x0e" "content-length"
    "\x11" "transfer-encoding"
    "\x0a" "connection"
    "\x0c" "content-type"
    "\x0c" "x-request-id"
#if CW_CONFIG_RETRIES
    "\x0b" "retry-after"
    "\x0e" "retry-after-ms"
    "\x0e" "x-should-retry"
#endif
#if CW_CONFIG_RATELIMIT_HEADERS
    "\x1e" "x-ratelimit-remaining-requests"
    "\x1c" "x-ratelimit-remaining-tokens"
    "\x1a" "x-ratelimit-reset-requests"
    "\x18" "x-ratelimit-reset-tokens"
#endif
    ;

/* The longest header name kept in scratch; longer names match nothing. */
#define NAME_MAX_LEN ((uint32_t)sizeof(((cw_http_parser_t *)0)->scratch))

/* Where a string-valued header goes, and its truncation bit. */
static char *string_field(cw_http_info_t *info, uint8_t hdr, uint8_t *bit)
{
    if (!KEPT(hdr)) {
        return NULL; /* lets the compiler drop the cases compiled out */
    }
    switch (hdr) {
    case H_CONTENT_TYPE:
        *bit = CW_TRUNC_CONTENT_TYPE;
        return info->content_type;
    case H_REQUEST_ID:
        *bit = CW_TRUNC_REQUEST_ID;
        return info->request_id;
    case H_RETRY_AFTER:
        *bit = CW_TRUNC_RETRY_AFTER;
        return info->retry_after;
    case H_RESET_REQUESTS:
        *bit = CW_TRUNC_RESET_REQUESTS;
        return info->ratelimit_reset_requests;
    case H_RESET_TOKENS:
        *bit = CW_TRUNC_RESET_TOKENS;
        return info->ratelimit_reset_tokens;
    default:
        return NULL;
    }
}

static bool is_number_header(uint8_t hdr)
{
    return KEPT(hdr) && (hdr == H_CONTENT_LENGTH || hdr == H_RETRY_AFTER_MS ||
           hdr == H_REMAINING_REQUESTS || hdr == H_REMAINING_TOKENS);
}

static bool is_token_header(uint8_t hdr)
{
    return KEPT(hdr) && (hdr == H_TRANSFER_ENCODING || hdr == H_CONNECTION ||
                         hdr == H_SHOULD_RETRY);
}

/* RFC 9110 tchar: ALPHA, DIGIT and !#$%&'*+-.^_`|~, as a bit set. */
static bool is_tchar(uint8_t ch)
{
    static const uint32_t set[4] = { 0x00000000u, 0x03ff6cfau, 0xc7fffffeu,
                                     0x57ffffffu };
    return ch < 128u && (set[ch >> 5] & (1u << (ch & 31u))) != 0u;
}

/* A byte of a reason phrase, header value or trailer that needs no action
 * (no line end, no control character, no DEL). */
static bool is_plain_text(uint8_t ch)
{
    return (ch >= 0x20u && ch != 0x7fu) || ch == '\t';
}

static void reset_info(cw_http_info_t *info)
{
    memset(info, 0, sizeof *info);
    info->retry_after_ms = -1;
    info->should_retry = -1;
    info->ratelimit_remaining_requests = -1;
    info->ratelimit_remaining_tokens = -1;
}

void cw_http_init(cw_http_parser_t *p, cw_http_info_t *info,
                  cw_http_headers_fn on_headers, cw_http_body_fn on_body,
                  void *user)
{
    memset(p, 0, sizeof *p);
    p->info = info;
    p->on_headers = on_headers;
    p->on_body = on_body;
    p->user = user;
    p->state = S_STATUS;
    p->hdr = H_NONE;
    reset_info(info);
}

void cw_http_head_only(cw_http_parser_t *p)
{
    p->flags |= F_HEAD_ONLY;
}

bool cw_http_done(const cw_http_parser_t *p)
{
    return p->state == S_DONE;
}

bool cw_http_headers_done(const cw_http_parser_t *p)
{
    return (p->flags & F_HEADERS) != 0u;
}

uint64_t cw_http_error_offset(const cw_http_parser_t *p)
{
    return p->pos;
}

bool cw_http_content_length(const cw_http_parser_t *p, uint64_t *len)
{
    if ((p->flags & F_HAS_CL) != 0u && (p->flags & F_CHUNKED) == 0u) {
        *len = p->content_length;
        return true;
    }
    return false;
}

/* --------------------------------------------------------- header values */

static void value_begin(cw_http_parser_t *p)
{
    uint8_t bit = 0;
    char *field = string_field(p->info, p->hdr, &bit);

    p->vlen = 0;
    p->vflags = 0;
    p->num = 0;
    if (field != NULL) {
        field[0] = '\0';
        p->info->truncated = (uint8_t)(p->info->truncated & ~bit);
    }
}

/* One token of a comma-separated list ended (in scratch[0..vlen)). */
static void token_end(cw_http_parser_t *p)
{
    size_t n = p->vlen;
    bool known = (p->vflags & V_TOKLONG) == 0u;
    const char *t = p->scratch;

    if ((n == 0u && known) || !KEPT(p->hdr)) {
        return; /* empty list element */
    }
    switch (p->hdr) {
    case H_TRANSFER_ENCODING:
        p->vflags = (uint8_t)((p->vflags & ~V_CHUNKED) |
                              ((known && n == 7u && memcmp(t, "chunked", 7) ==
                                0) ? V_CHUNKED : 0u));
        break;
    case H_CONNECTION:
        if (known && n == 5u && memcmp(t, "close", 5) == 0) {
            p->flags |= F_CLOSE;
        } else if (known && n == 10u && memcmp(t, "keep-alive", 10) == 0) {
            p->flags |= F_KEEP;
        }
        break;
    case H_SHOULD_RETRY:
        if (known && n == 4u && memcmp(t, "true", 4) == 0) {
            p->info->should_retry = 1;
        } else if (known && n == 5u && memcmp(t, "false", 5) == 0) {
            p->info->should_retry = 0;
        }
        break;
    default:
        break;
    }
    p->vlen = 0;
    p->vflags = (uint8_t)(p->vflags & ~V_TOKLONG);
}

static void value_byte(cw_http_parser_t *p, uint8_t ch)
{
    uint8_t bit = 0;
    char *field;

    if (!KEPT(p->hdr)) {
        return; /* H_NONE */
    }
    if (is_number_header(p->hdr)) {
        if (ch >= '0' && ch <= '9' && (p->vflags & (V_END | V_FRACTION)) == 0u) {
            if (p->num > (UINT64_MAX - 9u) / 10u) {
                p->vflags |= V_BAD;
            } else {
                p->num = p->num * 10u + (uint64_t)(ch - '0');
                p->vflags |= V_DIGITS;
            }
        } else if (ch == ' ' || ch == '\t') {
            p->vflags |= V_END;
        } else if (ch == '.' && p->hdr == H_RETRY_AFTER_MS &&
                   (p->vflags & (V_DIGITS | V_END | V_FRACTION)) == V_DIGITS) {
            p->vflags |= V_FRACTION; /* "1000.5": milliseconds, cut */
        } else if (ch >= '0' && ch <= '9' && (p->vflags & V_FRACTION) != 0u &&
                   (p->vflags & V_END) == 0u) {
            /* fractional digits are ignored */
        } else {
            p->vflags |= V_BAD;
        }
        return;
    }
    if (is_token_header(p->hdr)) {
        if (ch == ',') {
            token_end(p);
        } else if (ch == ' ' || ch == '\t') {
            /* white space around tokens carries no meaning here */
        } else if (p->vlen < sizeof p->scratch) {
            p->scratch[p->vlen++] = cw_lower((char)ch);
        } else {
            p->vflags |= V_TOKLONG;
        }
        return;
    }
    field = string_field(p->info, p->hdr, &bit);
    if (field != NULL) {
        /* one byte of what keep_value does for a run (the fast paths) */
        if (p->vlen + 1u < CW_HEADER_VALUE_MAX) {
            field[p->vlen++] = (char)ch;
            field[p->vlen] = '\0';
        } else if (ch != ' ' && ch != '\t') {
            p->info->truncated |= bit;
        }
    }
}

/* A header line ended. Returns CW_OK or CW_ERR_MALFORMED. */
static int value_end(cw_http_parser_t *p)
{
    uint8_t bit = 0;
    char *field;
    cw_http_info_t *info = p->info;
    bool number_ok = (p->vflags & (V_DIGITS | V_BAD)) == V_DIGITS;

    if (!KEPT(p->hdr)) {
        return CW_OK; /* H_NONE */
    }
    switch (p->hdr) {
    case H_CONTENT_LENGTH:
        if (!number_ok) {
            return CW_ERR_MALFORMED;
        }
        if ((p->flags & F_HAS_CL) != 0u && p->content_length != p->num) {
            return CW_ERR_MALFORMED; /* two different lengths: smuggling */
        }
        p->flags |= F_HAS_CL;
        p->content_length = p->num;
        return CW_OK;
    case H_RETRY_AFTER_MS:
        info->retry_after_ms = number_ok && p->num <= INT64_MAX ?
                               (int64_t)p->num : -1;
        return CW_OK;
    case H_REMAINING_REQUESTS:
        info->ratelimit_remaining_requests =
            number_ok && p->num <= INT64_MAX ? (int64_t)p->num : -1;
        return CW_OK;
    case H_REMAINING_TOKENS:
        info->ratelimit_remaining_tokens =
            number_ok && p->num <= INT64_MAX ? (int64_t)p->num : -1;
        return CW_OK;
    case H_TRANSFER_ENCODING:
        token_end(p);
        p->flags |= F_HAS_TE;
        if ((p->vflags & V_CHUNKED) != 0u) {
            p->flags |= F_CHUNKED;
        } else {
            p->flags = (uint8_t)(p->flags & ~F_CHUNKED);
        }
        return CW_OK;
    case H_CONNECTION:
    case H_SHOULD_RETRY:
        token_end(p);
        return CW_OK;
    default:
        break;
    }
    field = string_field(info, p->hdr, &bit);
    if (field != NULL) {
        size_t n = p->vlen;
        while (n > 0u && (field[n - 1u] == ' ' || field[n - 1u] == '\t')) {
            n--;
        }
        field[n] = '\0';
    }
    return CW_OK;
}

/* The blank line after the headers: choose how the body is framed. */
static int headers_end(cw_http_parser_t *p)
{
    cw_http_info_t *info = p->info;
    int status = info->status;

    if (status >= 100 && status < 200) {
        if (status == 101) {
            return CW_ERR_MALFORMED; /* we never ask to switch protocols */
        }
        /* An interim response: the real one follows. */
        reset_info(info);
        p->flags &= F_HEAD_ONLY;
        p->header_len = 0;
        p->state = S_STATUS;
        return CW_OK;
    }
    p->flags |= F_HEADERS;
    info->keep_alive = (p->minor >= 1u) ? (p->flags & F_CLOSE) == 0u
                                        : (p->flags & F_KEEP) != 0u &&
                                          (p->flags & F_CLOSE) == 0u;
    if (status == 204 || status == 304 || (p->flags & F_HEAD_ONLY) != 0u) {
        p->state = S_DONE;
    } else if ((p->flags & F_CHUNKED) != 0u) {
        p->state = S_CHUNK_SIZE;
        p->num = 0;
        p->vflags = 0;
        /* RFC 9112 6.3: with both, Transfer-Encoding wins, and the
         * connection must not be reused. */
        if ((p->flags & F_HAS_CL) != 0u) {
            info->keep_alive = false;
        }
    } else if ((p->flags & F_HAS_TE) != 0u) {
        p->state = S_BODY_CLOSE; /* a coding other than chunked last */
        info->keep_alive = false;
    } else if ((p->flags & F_HAS_CL) != 0u) {
        p->remaining = p->content_length;
        p->state = p->remaining == 0u ? S_DONE : S_BODY_CL;
    } else {
        p->state = S_BODY_CLOSE;
        info->keep_alive = false;
    }
    if (p->on_headers != NULL) {
        int rc = p->on_headers(p->user);
        if (rc != CW_OK) {
            return rc;
        }
    }
    return CW_OK;
}

/* --------------------------------------------------------- the machine */

/* Handles a line-end byte (CR or LF) in a line state. Returns 1 when the line
 * ended (an LF), 0 when the byte was a CR (wait for LF). */
static int line_end(cw_http_parser_t *p, uint8_t ch)
{
    if (ch == '\r') {
        p->flags |= F_CR;
        return 0;
    }
    p->flags = (uint8_t)(p->flags & ~F_CR);
    return 1;
}

/* Status line byte; index is p->line_len before this byte. */
static int status_byte(cw_http_parser_t *p, uint8_t ch)
{
    static const char prefix[] = "HTTP/1.";
    uint32_t i = p->line_len;

    if (i < 7u) {
        return ch == (uint8_t)prefix[i] ? CW_OK : CW_ERR_MALFORMED;
    }
    if (i == 7u) {
        if (ch != '0' && ch != '1') {
            return CW_ERR_MALFORMED;
        }
        p->minor = (uint8_t)(ch - '0');
        return CW_OK;
    }
    if (i == 8u) {
        return ch == ' ' ? CW_OK : CW_ERR_MALFORMED;
    }
    if (i <= 11u) {
        if (ch < '0' || ch > '9' || (i == 9u && ch == '0')) {
            return CW_ERR_MALFORMED;
        }
        p->info->status = p->info->status * 10 + (ch - '0');
        return CW_OK;
    }
    /* i == 12: a space before the reason, or the line end */
    if (ch == ' ') {
        p->state = S_REASON;
        return CW_OK;
    }
    if (ch == '\r' || ch == '\n') {
        if (line_end(p, ch)) {
            p->state = S_NAME_START;
        } else {
            p->state = S_REASON; /* waits for LF */
        }
        return CW_OK;
    }
    return CW_ERR_MALFORMED;
}

/* Which kept header is the name[0..len), in any case? Compared letter by
 * letter against the kept names of the same length (most differ early),
 * so a name still in the input needs no copy. */
static uint8_t lookup_name(const uint8_t *name, size_t len)
{
    const char *t = header_table;
    uint8_t h;

    for (h = 0; h < H_COUNT; h++) {
        size_t n = (uint8_t)*t++;
        if (n == len) {
            size_t k = 0;
            while (k < n && cw_lower((char)name[k]) == t[k]) {
                k++;
            }
            if (k == n) {
                return h;
            }
        }
        t += n;
    }
    return H_NONE;
}

static int name_byte(cw_http_parser_t *p, uint8_t ch)
{
    uint32_t i = p->line_len; /* index of ch in the name */

    if (ch == ':') {
        if (i == 0u) {
            return CW_ERR_MALFORMED;
        }
        /* kept names are at most 30 bytes: a longer one, cut in scratch,
         * matches none of them and is never read past scratch */
        p->hdr = lookup_name((const uint8_t *)p->scratch, i);
        value_begin(p);
        p->state = S_VALUE_WS;
        return CW_OK;
    }
    if (!is_tchar(ch)) {
        return CW_ERR_MALFORMED; /* includes white space before ':' */
    }
    if (i < NAME_MAX_LEN) {
        p->scratch[i] = cw_lower((char)ch);
    }
    return CW_OK;
}

/* Counts a byte of a line against the line and section bounds. */
static int count_line_byte(cw_http_parser_t *p, bool in_header_section)
{
    p->line_len++;
    if (p->line_len > CW_HTTP_MAX_LINE) {
        return CW_ERR_HEADER_TOO_LARGE;
    }
    if (in_header_section) {
        p->header_len++;
        if (p->header_len > CW_HTTP_MAX_HEADER_SECTION) {
            return CW_ERR_HEADER_TOO_LARGE;
        }
    }
    return CW_OK;
}

/* Deliver up to n body bytes from data; returns bytes used or an error. */
static int body_bytes(cw_http_parser_t *p, const uint8_t *data, size_t n,
                      size_t *used)
{
    int rc = CW_OK;
    if (n > 0u && p->on_body != NULL) {
        rc = p->on_body(p->user, data, n);
    }
    *used = n;
    return rc;
}

/* A byte of the status line or of the header section. */
static int head_byte(cw_http_parser_t *p, uint8_t ch)
{
    int rc;

    switch (p->state) {
    case S_STATUS:
        p->line_len--; /* status_byte wants the index of ch */
        rc = status_byte(p, ch);
        p->line_len++;
        return rc;
    case S_REASON:
        if (ch == '\r' || ch == '\n') {
            if (line_end(p, ch)) {
                p->state = S_NAME_START;
                p->line_len = 0;
            }
        } else if (ch < 0x20u && ch != '\t') {
            return CW_ERR_MALFORMED;
        }
        return CW_OK;
    case S_NAME_START:
        if (ch == '\r' || ch == '\n') {
            if (line_end(p, ch)) {
                p->line_len = 0;
                return headers_end(p);
            }
            return CW_OK;
        }
        if (ch == ' ' || ch == '\t') {
            return CW_ERR_MALFORMED; /* obsolete line folding */
        }
        p->line_len = 0;
        p->state = S_NAME;
        rc = name_byte(p, ch);
        p->line_len = 1;
        return rc;
    case S_NAME:
        p->line_len--;
        rc = name_byte(p, ch);
        p->line_len++;
        return rc;
    case S_VALUE_WS:
        if (ch == ' ' || ch == '\t') {
            return CW_OK;
        }
        p->state = S_VALUE;
        /* fall through */
    case S_VALUE:
        if (ch == '\r' || ch == '\n') {
            if (line_end(p, ch)) {
                p->state = S_NAME_START;
                p->line_len = 0;
                return value_end(p);
            }
            return CW_OK;
        }
        if ((ch < 0x20u && ch != '\t') || ch == 0x7fu) {
            return CW_ERR_MALFORMED;
        }
        value_byte(p, ch);
        return CW_OK;
    default:
        return CW_ERR_MALFORMED;
    }
}

/* A byte of the chunked framing: a size line, the CRLF after the data, or
 * the trailer section. */
static int chunk_byte(cw_http_parser_t *p, uint8_t ch)
{
    switch (p->state) {
    case S_CHUNK_SIZE: {
        int v = cw_hex_value((char)ch);
        if (v >= 0) {
            if (p->num > (UINT64_MAX >> 8)) {
                return CW_ERR_MALFORMED; /* chunk size overflows */
            }
            p->num = (p->num << 4) | (uint64_t)v;
            p->vflags |= V_DIGITS;
            return CW_OK;
        }
        if ((p->vflags & V_DIGITS) == 0u) {
            return CW_ERR_MALFORMED;
        }
        p->state = S_CHUNK_EXT;
    }
        /* fall through */
    case S_CHUNK_EXT:
        if (ch == '\r' || ch == '\n') {
            if (line_end(p, ch)) {
                p->line_len = 0;
                p->remaining = p->num;
                p->state = p->num == 0u ? S_TRAILER_START : S_CHUNK_DATA;
                p->header_len = 0;
            }
            return CW_OK;
        }
        if ((p->vflags & V_END) == 0u) {
            /* before any ';': only white space (BWS) may follow the size */
            if (ch == ';') {
                p->vflags |= V_END;
            } else if (ch != ' ' && ch != '\t') {
                return CW_ERR_MALFORMED;
            }
        } else if (ch < 0x20u && ch != '\t') {
            return CW_ERR_MALFORMED;
        }
        return CW_OK;
    case S_CHUNK_DATA_END:
        if (ch == '\r' || ch == '\n') {
            if (line_end(p, ch)) {
                p->line_len = 0;
                p->num = 0;
                p->vflags = 0;
                p->state = S_CHUNK_SIZE;
            }
            return CW_OK;
        }
        return CW_ERR_MALFORMED; /* chunk data longer than its size */
    case S_TRAILER_START:
        if (ch == '\r' || ch == '\n') {
            if (line_end(p, ch)) {
                p->state = S_DONE;
            }
            return CW_OK;
        }
        p->state = S_TRAILER;
        return CW_OK;
    case S_TRAILER:
        if (ch == '\r' || ch == '\n') {
            if (line_end(p, ch)) {
                p->line_len = 0;
                p->state = S_TRAILER_START;
            }
            return CW_OK;
        }
        if (ch < 0x20u && ch != '\t') {
            return CW_ERR_MALFORMED;
        }
        return CW_OK;
    default:
        return CW_ERR_MALFORMED;
    }
}

/* One byte of a line (the body states are not here: cw_http_feed gives
 * their bytes to body_bytes in runs). Each line counts towards its limit
 * first; header lines and trailer lines towards the header section's. */
static int step_byte(cw_http_parser_t *p, uint8_t ch)
{
    int rc;

    if ((p->flags & F_CR) != 0u && ch != '\n') {
        return CW_ERR_MALFORMED; /* CR not followed by LF */
    }
    if (p->state <= S_VALUE) {
        rc = count_line_byte(p, true);
        return rc != CW_OK ? rc : head_byte(p, ch);
    }
    if (p->state >= S_CHUNK_SIZE && p->state <= S_TRAILER &&
        p->state != S_CHUNK_DATA) {
        rc = count_line_byte(p, p->state >= S_TRAILER_START);
        return rc != CW_OK ? rc : chunk_byte(p, ch);
    }
    return CW_ERR_MALFORMED;
}

/* Appends data[0..n) to a kept string field, as much as fits, as value_byte
 * does byte by byte (the span and whole-line fast paths keep values through
 * this); a cut byte that is not blank marks the field truncated. */
static void keep_value(cw_http_parser_t *p, char *field, uint8_t bit,
                       const uint8_t *data, size_t n)
{
    size_t room = CW_HEADER_VALUE_MAX - 1u - p->vlen;
    size_t k = n < room ? n : room;

    memcpy(field + p->vlen, data, k);
    p->vlen = (uint16_t)(p->vlen + k);
    field[p->vlen] = '\0';
    for (; k < n; k++) {
        if (data[k] != ' ' && data[k] != '\t') {
            p->info->truncated |= bit;
        }
    }
}

/* Takes a run of bytes from data[0..avail) that need no decision, doing
 * to them what the byte-wise machine would: the rest of a header name
 * (collected), a reason phrase, a value (kept in its field when it is a
 * kept string header), a trailer. The run stops before anything else, and
 * before a line or section limit, so that the byte-wise path sees every
 * byte that matters, wherever the input is split. Returns its length. */
static size_t span(cw_http_parser_t *p, const uint8_t *data, size_t avail)
{
    size_t n = 0;
    size_t room;
    char *field = NULL;
    uint8_t bit = 0;
    bool digits = false;

    if ((p->flags & F_CR) != 0u) {
        return 0;
    }
    switch (p->state) {
    case S_NAME:
    case S_REASON:
    case S_TRAILER:
        break;
    case S_VALUE:
        if (KEPT(p->hdr)) {
            field = string_field(p->info, p->hdr, &bit);
            digits = field == NULL && is_number_header(p->hdr) &&
                     (p->vflags & (V_END | V_FRACTION | V_BAD)) == 0u;
            if (field == NULL && !digits) {
                return 0; /* token lists and the rest of a number */
            }
        }
        break;
    default:
        return 0;
    }
    room = CW_HTTP_MAX_LINE - p->line_len;
    if (CW_HTTP_MAX_HEADER_SECTION - p->header_len < room) {
        room = CW_HTTP_MAX_HEADER_SECTION - p->header_len;
    }
    if (avail > room) {
        avail = room;
    }
    if (digits) {
        /* the digits of a number, as value_byte takes them */
        for (; n < avail && data[n] >= '0' && data[n] <= '9'; n++) {
            if (p->num > (UINT64_MAX - 9u) / 10u) {
                p->vflags |= V_BAD;
                n++;
                break;
            }
            p->num = p->num * 10u + (uint64_t)(data[n] - '0');
            p->vflags |= V_DIGITS;
        }
    } else if (p->state == S_NAME) {
        for (; n < avail && is_tchar(data[n]); n++) {
            if (p->line_len + n < NAME_MAX_LEN) {
                p->scratch[p->line_len + n] = cw_lower((char)data[n]);
            }
        }
    } else if (field != NULL) {
        while (n < avail && is_plain_text(data[n])) {
            n++;
        }
        keep_value(p, field, bit, data, n);
    } else {
        while (n < avail && is_plain_text(data[n])) {
            n++;
        }
    }
    return n;
}

#if CW_CONFIG_HTTP_FAST_PATHS || CW_CONFIG_STREAM_FAST_PATHS
/* Byte classes (cw_internal.h), for the fast paths of this parser and of
 * the JSON layer's: 256 bytes of flash, for about 5x fewer instructions
 * per header byte than the bit-set tests, and a four-instruction loop
 * through a JSON string. */
const uint8_t cw_byte_class[256] = {
    4, 0, 0, 0, 0, 0, 0, 0, 0, 10, 8, 0, 0, 8, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    10, 3, 6, 3, 3, 3, 3, 3, 2, 2, 3, 3, 2, 3, 3, 2,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2,
    2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 6, 2, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 3, 6, 3, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};
#endif

#if CW_CONFIG_HTTP_FAST_PATHS

/* A whole header field line at the start of data[0..avail): when the line
 * is complete, well formed (name ':' value, CRLF or LF) and within the
 * limits, does to it what the byte-wise machine would, in one pass, and
 * sets *used to its length. Otherwise *used is 0 and the byte-wise machine
 * takes the line, so that it finds any error at its exact byte. Returns
 * value_end's status (a bad Content-Length), with *used the offset of the
 * LF, where the byte-wise machine would have stopped. */
static int whole_line(cw_http_parser_t *p, const uint8_t *data, size_t avail,
                      size_t *used)
{
    const uint8_t *nl;
    size_t len;
    size_t i = 0;
    size_t v;
    uint8_t bit = 0;
    char *field;
    int rc;

    *used = 0;
    if (CW_HTTP_MAX_HEADER_SECTION - p->header_len < avail) {
        avail = CW_HTTP_MAX_HEADER_SECTION - p->header_len;
    }
    if (avail > CW_HTTP_MAX_LINE) {
        avail = CW_HTTP_MAX_LINE; /* line_len is 0 at a line's start */
    }
    nl = (const uint8_t *)memchr(data, '\n', avail);
    if (nl == NULL) {
        return CW_OK;
    }
    len = (size_t)(nl - data);
    if (len > 0u && data[len - 1u] == '\r') {
        len--;
    }
    /* no bound needed in these two loops: the line ends with CR or LF,
     * which are neither CW_C_TCHAR nor CW_C_TEXT */
    while ((cw_byte_class[data[i]] & CW_C_TCHAR) != 0u) {
        i++;
    }
    if (i == 0u || i >= len || data[i] != ':') {
        return CW_OK;
    }
    v = i + 1u;
    while ((cw_byte_class[data[v]] & CW_C_TEXT) != 0u) {
        v++;
    }
    if (v != len) {
        return CW_OK; /* a CR or control byte inside: byte by byte */
    }
    p->hdr = lookup_name(data, i);
    value_begin(p);
    v = i + 1u;
    while (v < len && (data[v] == ' ' || data[v] == '\t')) {
        v++;
    }
    field = string_field(p->info, p->hdr, &bit);
    if (field != NULL) {
        keep_value(p, field, bit, data + v, len - v);
    } else if (KEPT(p->hdr)) {
        for (; v < len; v++) {
            value_byte(p, data[v]);
        }
    }
    rc = value_end(p);
    if (rc != CW_OK) {
        *used = (size_t)(nl - data); /* the error is at the LF */
        return rc;
    }
    *used = (size_t)(nl - data) + 1u;
    p->header_len += (uint32_t)*used;
    return CW_OK;
}
#endif /* CW_CONFIG_HTTP_FAST_PATHS */

int cw_http_feed(cw_http_parser_t *p, const uint8_t *data, size_t len,
                 size_t *consumed)
{
    size_t i = 0;
    int rc = CW_OK;

    if (p == NULL || (data == NULL && len > 0u) || consumed == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    if (p->state == S_ERROR) {
        *consumed = 0;
        return CW_ERR_MALFORMED;
    }
    while (i < len && p->state != S_DONE) {
        size_t avail = len - i;
        size_t used = 1;

        switch (p->state) {
        case S_BODY_CL:
        case S_CHUNK_DATA:
            if (avail > p->remaining) {
                avail = (size_t)p->remaining;
            }
            rc = body_bytes(p, data + i, avail, &used);
            p->remaining -= used;
            if (p->remaining == 0u) {
                p->state = p->state == S_BODY_CL ? S_DONE : S_CHUNK_DATA_END;
            }
            break;
        case S_BODY_CLOSE:
            rc = body_bytes(p, data + i, avail, &used);
            break;
        default:
            used = 0;
#if CW_CONFIG_HTTP_FAST_PATHS
            if (p->state == S_NAME_START && (p->flags & F_CR) == 0u) {
                rc = whole_line(p, data + i, avail, &used);
                if (rc != CW_OK) {
                    i += used; /* up to the failing byte */
                    p->pos += used;
                }
                if (rc != CW_OK || used > 0u) {
                    break;
                }
            }
#endif
            used = CW_CONFIG_HTTP_FAST_PATHS ? span(p, data + i, avail) : 0u;
            if (used > 0u) {
                p->line_len += (uint32_t)used;
                p->header_len += (uint32_t)used;
            } else {
                used = 1;
                rc = step_byte(p, data[i]);
            }
            break;
        }
        if (rc != CW_OK) {
            p->state = S_ERROR;
            break;
        }
        i += used;
        p->pos += used;
    }
    *consumed = i;
    return rc;
}

int cw_http_finish(cw_http_parser_t *p)
{
    if (p->state == S_BODY_CLOSE) {
        p->state = S_DONE;
    }
    return p->state == S_DONE ? CW_OK : CW_ERR_CLOSED;
}
