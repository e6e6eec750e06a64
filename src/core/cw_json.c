/*
 * cw_json.c - pulls what a caller needs out of chat.completion bodies,
 * chat.completion.chunk events and error bodies, using jsmn.
 *
 * jsmn tokenises the text into the caller's token array (no allocation);
 * strings are then unescaped in place, inside their own span of the text,
 * and NUL-terminated there (an unescaped string is never longer than its
 * escaped form, so this is safe and needs no second buffer).
 *
 * Lone UTF-16 surrogates (\uD800-\uDFFF not forming a pair) become U+FFFD,
 * the way most JSON decoders replace them.
 */
#include "cw_internal.h"

#include <stddef.h>
#include <string.h>

#include "cw_jsmn.h"

typedef char cw_token_size_check[(sizeof(jsmntok_t) <= CW_JSON_TOKEN_SIZE)
                                  ? 1 : -1];

#define UNESCAPE_ERROR ((size_t)-1)

size_t cw_json_token_capacity(size_t bytes)
{
    return bytes / sizeof(jsmntok_t);
}

size_t cw_json_token_align(void)
{
    return sizeof(int);
}

#if CW_CONFIG_TOOLS || CW_CONFIG_REQUEST_OPTIONS
/* ------------------------------------------------------------ JSON text */

/* The deepest nesting a caller's JSON text may have (a bit per level says
 * object or array). */
#define TEXT_MAX_DEPTH 64u

static bool text_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool text_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The end of the string whose opening quote is at s[i], or 0 when it is
 * broken (a control character, a bad escape, no closing quote). */
static size_t text_string(const char *s, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '"') {
            return i + 1u;
        }
        if (c < 0x20u) {
            return 0;
        }
        if (c == '\\') {
            size_t k;
            if (++i >= len) {
                return 0;
            }
            if (s[i] == 'u') {
                for (k = 1; k <= 4u; k++) {
                    if (i + k >= len || cw_hex_value(s[i + k]) < 0) {
                        return 0;
                    }
                }
                i += 4u;
            } else if (strchr("\"\\/bfnrt", s[i]) == NULL || s[i] == '\0') {
                return 0;
            }
        }
    }
    return 0;
}

/* The end of the number at s[i] (JSON's grammar), or 0. */
static size_t text_number(const char *s, size_t len, size_t i)
{
    size_t d;

    if (i < len && s[i] == '-') {
        i++;
    }
    if (i < len && s[i] == '0') {
        i++;
    } else {
        for (d = i; i < len && text_digit(s[i]); i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    if (i < len && s[i] == '.') {
        for (d = ++i; i < len && text_digit(s[i]); i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        for (d = i; i < len && text_digit(s[i]); i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    return i;
}

size_t cw_json_text_check(const char *s, size_t len, bool object,
                          cw_json_key_fn on_key, void *user)
{
    uint64_t kinds = 0; /* bit d: level d is an object */
    unsigned depth = 0;
    size_t i = 0;
    enum { VALUE, AFTER, KEY, COLON } want = VALUE;
    bool first = true; /* in a container, before its first member */

    while (i < len && text_ws(s[i])) {
        i++;
    }
    if (object && (i >= len || s[i] != '{')) {
        return i;
    }
    for (;;) {
        char c;
        size_t end;

        while (i < len && text_ws(s[i])) {
            i++;
        }
        if (i >= len) {
            return depth == 0u && want == AFTER ? CW_JSON_TEXT_OK : len;
        }
        c = s[i];
        if (want == AFTER && depth == 0u) {
            return i; /* something after the value */
        }
        switch (want) {
        case KEY:
            if (c == '}' && first) {
                goto close;
            }
            if (c != '"' || (end = text_string(s, len, i)) == 0u) {
                return i;
            }
            if (depth == 1u && on_key != NULL &&
                !on_key(user, s + i + 1, end - i - 2u)) {
                return i;
            }
            i = end;
            want = COLON;
            continue;
        case COLON:
            if (c != ':') {
                return i;
            }
            i++;
            want = VALUE;
            continue;
        case AFTER:
            if (c == ',') {
                i++;
                want = (kinds >> (depth - 1u)) & 1u ? KEY : VALUE;
                first = false;
                continue;
            }
            if (c == ((kinds >> (depth - 1u)) & 1u ? '}' : ']')) {
                goto close;
            }
            return i;
        case VALUE:
            break;
        }
        /* a value */
        if (c == '{' || c == '[') {
            if (depth == TEXT_MAX_DEPTH) {
                return i;
            }
            kinds = c == '{' ? kinds | ((uint64_t)1 << depth)
                             : kinds & ~((uint64_t)1 << depth);
            depth++;
            i++;
            want = c == '{' ? KEY : VALUE;
            first = true;
            continue;
        }
        if (c == ']' && first && depth > 0u &&
            !((kinds >> (depth - 1u)) & 1u)) {
            goto close;
        }
        if (c == '"') {
            end = text_string(s, len, i);
        } else if (c == '-' || text_digit(c)) {
            end = text_number(s, len, i);
        } else if (c == 't' && len - i >= 4u && memcmp(s + i, "true", 4) == 0) {
            end = i + 4u;
        } else if (c == 'f' && len - i >= 5u && memcmp(s + i, "false", 5) == 0) {
            end = i + 5u;
        } else if (c == 'n' && len - i >= 4u && memcmp(s + i, "null", 4) == 0) {
            end = i + 4u;
        } else {
            end = 0;
        }
        if (end == 0u) {
            return i;
        }
        i = end;
        want = AFTER;
        first = false;
        continue;
    close:
        depth--;
        i++;
        want = AFTER;
        first = false;
    }
}
#endif /* CW_CONFIG_TOOLS || CW_CONFIG_REQUEST_OPTIONS */

/* ------------------------------------------------------------ UTF-8 */

int cw_hex_value(char ch)
{
    unsigned d = (unsigned)(uint8_t)ch - '0';

    if (d < 10u) {
        return (int)d;
    }
    /* with the digits out of the way, | 0x20 folds A-F onto a-f */
    d = ((unsigned)(uint8_t)ch | 0x20u) - 'a';
    return d < 6u ? (int)d + 10 : -1;
}

bool cw_copy_field(char *dst, size_t size, const char *src, size_t len)
{
    size_t n = len;
    bool cut = false;

    if (size == 0u) {
        return len > 0u;
    }
    if (n > size - 1u) {
        n = size - 1u;
        cut = true;
        /* do not end inside a UTF-8 sequence */
        while (n > 0u && ((uint8_t)src[n] & 0xc0u) == 0x80u) {
            n--;
        }
    }
    if (n > 0u) {
        memcpy(dst, src, n); /* never overlapping: a text and a result */
    }
    dst[n] = '\0';
    return cut;
}

static size_t utf8_seq_len(uint8_t lead)
{
    if (lead < 0x80u) {
        return 1;
    }
    if (lead >= 0xc2u && lead <= 0xdfu) {
        return 2;
    }
    if (lead >= 0xe0u && lead <= 0xefu) {
        return 3;
    }
    if (lead >= 0xf0u && lead <= 0xf4u) {
        return 4;
    }
    return 0;
}

size_t cw_utf8_tail(const char *s, size_t len)
{
    size_t back = 0;

    while (back < 4u && back < len) {
        uint8_t b = (uint8_t)s[len - 1u - back];
        if ((b & 0xc0u) != 0x80u) {
            size_t need = utf8_seq_len(b);
            size_t have = back + 1u;
            return (need > have) ? have : 0u;
        }
        back++;
    }
    return 0;
}

/* Whether c may be byte idx (1..3) of a sequence led by lead (Unicode's
 * table of well-formed sequences: no overlongs, surrogates or > U+10FFFF). */
static bool utf8_cont_ok(uint8_t lead, size_t idx, uint8_t c)
{
    if (idx == 1u) {
        switch (lead) {
        case 0xe0u:
            return c >= 0xa0u && c <= 0xbfu;
        case 0xedu:
            return c >= 0x80u && c <= 0x9fu;
        case 0xf0u:
            return c >= 0x90u && c <= 0xbfu;
        case 0xf4u:
            return c >= 0x80u && c <= 0x8fu;
        default:
            break;
        }
    }
    return (c & 0xc0u) == 0x80u;
}

size_t cw_utf8_check(const char *s, size_t len, size_t *bad)
{
    size_t i = 0;

    while (i < len) {
        uint8_t b = (uint8_t)s[i];
        size_t n;
        size_t k = 1;

        if (b < 0x80u) {
            i++; /* ASCII, the usual byte: no call */
            continue;
        }
        n = utf8_seq_len(b);
        while (n > 1u && k < n && i + k < len &&
               utf8_cont_ok(b, k, (uint8_t)s[i + k])) {
            k++;
        }
        if (n > 1u && k == n) {
            i += n;
            continue;
        }
        *bad = k; /* the maximal subpart of an ill-formed sequence */
        return i;
    }
    *bad = 0;
    return i;
}

bool cw_utf8_valid(const char *s, size_t len)
{
    size_t bad;
    return cw_utf8_check(s, len, &bad) == len;
}

static size_t utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80u) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800u) {
        out[0] = (char)(0xc0u | (cp >> 6));
        out[1] = (char)(0x80u | (cp & 0x3fu));
        return 2;
    }
    if (cp < 0x10000u) {
        out[0] = (char)(0xe0u | (cp >> 12));
        out[1] = (char)(0x80u | ((cp >> 6) & 0x3fu));
        out[2] = (char)(0x80u | (cp & 0x3fu));
        return 3;
    }
    out[0] = (char)(0xf0u | (cp >> 18));
    out[1] = (char)(0x80u | ((cp >> 12) & 0x3fu));
    out[2] = (char)(0x80u | ((cp >> 6) & 0x3fu));
    out[3] = (char)(0x80u | (cp & 0x3fu));
    return 4;
}

/* Four hex digits at s (which has at least 4 bytes); -1 if not hex. */
static long hex4(const char *s)
{
    long v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        int d = cw_hex_value(s[i]);
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

size_t cw_json_unescape(char *s, size_t len)
{
    size_t r = 0;
    size_t w = 0;

    while (r < len) {
        char ch;
        long cp;
        const char *bs = (const char *)memchr(s + r, '\\', len - r);
        size_t run = bs != NULL ? (size_t)(bs - s) - r : len - r;

        if (run > 0u) {
            /* plain text up to the next escape, moved down as one block
             * (nothing to move while no escape has shortened the text) */
            if (w != r) {
                memmove(s + w, s + r, run);
            }
            w += run;
            r += run;
            continue;
        }
        if (len - r < 2u) {
            return UNESCAPE_ERROR;
        }
        ch = s[r + 1u];
        r += 2u;
        if (ch != 'u') {
            /* the one-letter escapes, each followed by what it stands for */
            static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
            const char *e = ch != '\0' ? strchr(simple, ch) : NULL;
            if (e == NULL || (e - simple) % 2 != 0) {
                return UNESCAPE_ERROR;
            }
            s[w++] = e[1];
            continue;
        }
        if (len - r < 4u || (cp = hex4(s + r)) < 0) {
            return UNESCAPE_ERROR;
        }
        r += 4u;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            long lo = -1;
            if (len - r >= 6u && s[r] == '\\' && s[r + 1u] == 'u') {
                lo = hex4(s + r + 2u);
            }
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                r += 6u;
            } else {
                cp = 0xfffd; /* lone high surrogate */
            }
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            cp = 0xfffd; /* lone low surrogate */
        }
        /* w + written <= r: an escape is longer than its UTF-8 */
        w += utf8_put(s + w, (uint32_t)cp);
    }
    return w;
}

/* ------------------------------------------------------------ tokens */

typedef struct doc {
    char *js;
    const jsmntok_t *t;
    int n;
} doc_t;

/* Index just past the subtree rooted at i. */
static int skip(const doc_t *d, int i)
{
    int left = 1;

    while (left > 0 && i < d->n) {
        left += d->t[i].size;
        left--;
        i++;
    }
    return i;
}

static bool tok_is(const doc_t *d, int i, jsmntype_t type)
{
    return i >= 0 && i < d->n && d->t[i].type == type;
}

static bool tok_eq(const doc_t *d, int i, const char *lit)
{
    size_t n = strlen(lit);
    const jsmntok_t *t = &d->t[i];
    return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n &&
           memcmp(d->js + t->start, lit, n) == 0;
}

static bool tok_is_null(const doc_t *d, int i)
{
    return tok_is(d, i, JSMN_PRIMITIVE) && d->js[d->t[i].start] == 'n';
}

/* The value of key in the object at index obj, or -1. */
static int get(const doc_t *d, int obj, const char *key)
{
    int i;
    int k;

    if (!tok_is(d, obj, JSMN_OBJECT)) {
        return -1;
    }
    i = obj + 1;
    for (k = 0; k < d->t[obj].size && i + 1 < d->n; k++) {
        if (tok_eq(d, i, key)) {
            return i + 1;
        }
        i = skip(d, i + 1);
    }
    return -1;
}

static int64_t int_at(const doc_t *d, int i);

/* The choice that counts in the "choices" array at arr: the one whose
 * "index" is 0, or the first without an index; -1 when there is none
 * (the usage chunk's "choices": [], or only other choices of n > 1). */
static int choice0(const doc_t *d, int arr)
{
    int i = arr + 1;
    int k;

    if (!tok_is(d, arr, JSMN_ARRAY)) {
        return -1;
    }
    for (k = 0; k < d->t[arr].size && i < d->n; k++) {
        int idx = get(d, i, "index");
        if (idx < 0 || int_at(d, idx) == 0) {
            return i;
        }
        i = skip(d, i);
    }
    return -1;
}

/* Unescapes string token i in place; returns its text and length. */
static int str(const doc_t *d, int i, char **out, size_t *len)
{
    const jsmntok_t *t = &d->t[i];
    size_t n = cw_json_unescape(d->js + t->start,
                                (size_t)(t->end - t->start));
    if (n == UNESCAPE_ERROR) {
        return CW_ERR_MALFORMED;
    }
    d->js[(size_t)t->start + n] = '\0';
    *out = d->js + t->start;
    *len = n;
    return CW_OK;
}

/* Copies the string (or primitive, as text) at i into dst; "" for null or
 * absent. Sets *cut when it was truncated. */
static int copy_to(const doc_t *d, int i, char *dst, size_t size, bool *cut)
{
    char *s;
    size_t n;
    bool c = false;

    dst[0] = '\0';
    if (i < 0 || tok_is_null(d, i)) {
        /* absent */
    } else if (tok_is(d, i, JSMN_STRING)) {
        if (str(d, i, &s, &n) != CW_OK) {
            return CW_ERR_MALFORMED;
        }
        c = cw_copy_field(dst, size, s, n);
    } else if (tok_is(d, i, JSMN_PRIMITIVE)) {
        c = cw_copy_field(dst, size, d->js + d->t[i].start,
                          (size_t)(d->t[i].end - d->t[i].start));
    }
    if (cut != NULL) {
        *cut = c;
    }
    return CW_OK;
}

/* Integer primitive at i, or -1. */
static int64_t int_at(const doc_t *d, int i)
{
    int64_t v = 0;
    int k;

    if (!tok_is(d, i, JSMN_PRIMITIVE)) {
        return -1;
    }
    for (k = d->t[i].start; k < d->t[i].end; k++) {
        char ch = d->js[k];
        if (ch < '0' || ch > '9' || v > (INT64_MAX - 9) / 10) {
            return -1;
        }
        v = v * 10 + (ch - '0');
    }
    return v;
}

static void usage(const doc_t *d, int u, cw_result_t *res)
{
    if (!tok_is(d, u, JSMN_OBJECT)) {
        return;
    }
    res->prompt_tokens = int_at(d, get(d, u, "prompt_tokens"));
    res->completion_tokens = int_at(d, get(d, u, "completion_tokens"));
    res->total_tokens = int_at(d, get(d, u, "total_tokens"));
#if CW_CONFIG_REASONING
    res->reasoning_tokens = int_at(d, get(d, get(d, u,
                                                 "completion_tokens_details"),
                                          "reasoning_tokens"));
    res->cached_tokens = int_at(d, get(d, get(d, u, "prompt_tokens_details"),
                                       "cached_tokens"));
#endif
}

/* ------------------------------------------------------------ grammar */

/* jsmn finds the tokens but lets some broken texts through ({"a" "b"},
 * {"a":1,}, a stray ':' or ',' after the root, missing commas). This walks
 * the tokens in order and checks the bytes between them: only white space
 * and exactly the separator the grammar wants there. Returns the offset of
 * the first wrong byte, or -1 when the text is well formed. */

#define MAX_DEPTH 32

static bool json_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Skips white space and at most the one separator sep (0: none) in
 * [pos, end); returns the offset of a wrong byte or -1. */
static long gap(const char *js, long pos, long end, char sep)
{
    bool seen = sep == 0;
    for (; pos < end; pos++) {
        if (js[pos] == sep && !seen) {
            seen = true;
        } else if (!json_ws(js[pos])) {
            return pos;
        }
    }
    return seen ? -1 : end;
}

static long grammar_error(const doc_t *d, long len)
{
    int stack[MAX_DEPTH]; /* open containers */
    int left[MAX_DEPTH];  /* children still to come: keys and values count
                             one each in an object */
    int depth = 0;
    long pos = 0;
    long bad;
    int i;

    for (i = 0; i < d->n; i++) {
        const jsmntok_t *t = &d->t[i];
        long start = t->start - (t->type == JSMN_STRING ? 1 : 0);
        long end = t->end + (t->type == JSMN_STRING ? 1 : 0);
        char sep = 0;

        if (depth > 0) {
            const jsmntok_t *c = &d->t[stack[depth - 1]];
            int total = c->type == JSMN_OBJECT ? 2 * c->size : c->size;
            int done = total - left[depth - 1];
            if (c->type == JSMN_OBJECT) {
                sep = done == 0 ? 0 : (done % 2 == 1 ? ':' : ',');
                if (done % 2 == 0 && t->type != JSMN_STRING) {
                    return start; /* a key that is not a string */
                }
            } else {
                sep = done == 0 ? 0 : ',';
            }
            left[depth - 1]--;
        }
        bad = gap(d->js, pos, start, sep);
        if (bad >= 0) {
            return bad;
        }
        if (t->type == JSMN_OBJECT || t->type == JSMN_ARRAY) {
            if (depth == MAX_DEPTH) {
                return start; /* deeper than any answer needs */
            }
            stack[depth] = i;
            left[depth] = t->type == JSMN_OBJECT ? 2 * t->size : t->size;
            depth++;
            pos = start + 1;
        } else {
            pos = end;
        }
        /* close every container whose children are all there */
        while (depth > 0 && left[depth - 1] == 0) {
            const jsmntok_t *c = &d->t[stack[depth - 1]];
            bad = gap(d->js, pos, (long)c->end - 1, 0);
            if (bad >= 0) {
                return bad;
            }
            pos = c->end;
            depth--;
        }
    }
    bad = gap(d->js, pos, len, 0); /* nothing after the root */
    return depth == 0 ? bad : pos;
}

/* Tokenises json; the root must be one object spanning the text. */
static int parse(doc_t *d, char *json, size_t len, void *tokens, size_t ntok,
                 cw_result_t *res)
{
    jsmn_parser p;
    int n;

    if (len > (size_t)INT32_MAX || ntok > (size_t)INT32_MAX) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    jsmn_init(&p);
    n = jsmn_parse(&p, json, len, (jsmntok_t *)tokens, (unsigned int)ntok);
    if (n == JSMN_ERROR_NOMEM) {
        /* count them (jsmn does, given no array), to say what is needed */
        jsmn_init(&p);
        n = jsmn_parse(&p, json, len, NULL, 0);
        if (n > 0) {
            res->needed = (size_t)n * sizeof(jsmntok_t);
            return CW_ERR_BUFFER_TOO_SMALL;
        }
        /* broken before the end: p.pos says where, below */
    }
    if (n < 0) {
        /* PART: the text ended inside a value; INVAL: p.pos is the spot */
        res->error_offset = n == JSMN_ERROR_PART ? len : p.pos;
        return CW_ERR_MALFORMED;
    }
    d->js = json;
    d->t = (const jsmntok_t *)tokens;
    d->n = n;
    if (n < 1 || d->t[0].type != JSMN_OBJECT || skip(d, 0) != n) {
        res->error_offset = n < 1 ? 0u : (uint64_t)d->t[0].start;
        return CW_ERR_MALFORMED;
    }
    {
        long bad = grammar_error(d, (long)len);
        if (bad >= 0) {
            res->error_offset = (uint64_t)bad;
            return CW_ERR_MALFORMED;
        }
    }
    return CW_OK;
}

#if CW_CONFIG_TOOLS
/* Adds a tool call's name to res->tool_names (", "-separated; "..." ends a
 * list that had to be cut). */
static void add_tool_name(const char *s, size_t n, cw_result_t *res)
{
    size_t have = strlen(res->tool_names);
    size_t cap = sizeof res->tool_names - 1u;
    size_t sep = have > 0u ? 2u : 0u;

    if (have >= 3u && memcmp(res->tool_names + have - 3u, "...", 3) == 0) {
        return; /* already cut */
    }
    if (sep + n <= cap - have) {
        memcpy(res->tool_names + have, ", ", sep);
        memcpy(res->tool_names + have + sep, s, n);
        res->tool_names[have + sep + n] = '\0';
    } else {
        have = have + 3u <= cap ? have : cap - 3u;
        memcpy(res->tool_names + have, "...", 4);
    }
}

/* FNV-1a of an id, never 0 (0 is "no id yet"). */
static uint32_t id_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++) {
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    }
    return h != 0u ? h : 1u;
}

/* The non-empty string at i (unescaped in place), or NULL: absent, null,
 * "" and other types all mean "not given". */
static int given(const doc_t *d, int i, char **s, size_t *n)
{
    *s = NULL;
    *n = 0;
    if (!tok_is(d, i, JSMN_STRING) || d->t[i].end == d->t[i].start) {
        return CW_OK;
    }
    if (str(d, i, s, n) != CW_OK) {
        return CW_ERR_MALFORMED;
    }
    if (*n == 0u) {
        *s = NULL;
    }
    return CW_OK;
}

/* The call a fragment belongs to: the one with its id; without an id, the
 * one with its index; a fragment with neither that names a function starts
 * a call unless the current one has no name yet; anything else continues
 * the current call. Returns the call's number, which may be
 * res->tool_calls (a new call). Calls past CW_TOOL_TRACK_MAX are only told
 * apart by new ids and names. */
static uint32_t which_call(const cw_tool_track_t *tt, const cw_result_t *res,
                           int64_t idx, uint32_t hash, bool named)
{
    uint32_t n = res->tool_calls;
    uint32_t k;
    uint32_t seen = n < CW_TOOL_TRACK_MAX ? n : CW_TOOL_TRACK_MAX;

    if (!tt->stream || n == 0u) {
        return n; /* a whole message: every element is a call */
    }
    if (hash != 0u) {
        for (k = 0; k < seen; k++) {
            if (tt->seen[k].id_hash == hash) {
                return k;
            }
        }
        /* a new id: a new call, unless the current one has none yet and
         * has the same index (a server that sends the id late) */
        k = tt->cur;
        if (k < seen && tt->seen[k].id_hash == 0u &&
            (idx < 0 || tt->seen[k].index == (int32_t)idx)) {
            return k;
        }
        return n;
    }
    if (idx >= 0) {
        for (k = 0; k < seen; k++) {
            if (tt->seen[k].index == (int32_t)idx) {
                return k;
            }
        }
        /* an index not seen: a call of its own if it names a function,
         * else a server numbering its continuations arbitrarily */
        return named ? n : tt->cur;
    }
    if (named && tt->cur < seen && tt->seen[tt->cur].named) {
        return n;
    }
    return tt->cur;
}

/* Appends text[0..len) to call k's arguments in the request's storage
 * (moving the calls after it along), or counts what it would need. */
static void add_args(cw_tool_track_t *tt, uint32_t k, const char *text,
                     size_t len)
{
    cw_tool_call_t *c;
    size_t at;
    uint32_t j;

    tt->args_need += len;
    if (tt->calls == NULL || k >= tt->max || tt->args_need > tt->args_size ||
        len == 0u) {
        return;
    }
    c = &tt->calls[k];
    at = (size_t)(c->arguments - tt->args) + c->arguments_len;
    memmove(tt->args + at + len, tt->args + at, tt->args_used - at);
    memcpy(tt->args + at, text, len);
    tt->args_used += len;
    c->arguments_len += len;
    for (j = k + 1u; j < tt->max && tt->calls[j].arguments != NULL; j++) {
        tt->calls[j].arguments += len;
    }
}

/* The compact text of the JSON value at i (an object given as arguments
 * by some servers): its bytes without the white space outside strings. */
static void add_json_args(cw_tool_track_t *tt, uint32_t k, const doc_t *d,
                          int i)
{
    const char *p = d->js + d->t[i].start;
    const char *end = d->js + d->t[i].end;
    const char *run = p;
    bool in_str = false;
    bool esc = false;

    for (; p < end; p++) {
        if (in_str) {
            if (esc) {
                esc = false;
            } else if (*p == '\\') {
                esc = true;
            } else if (*p == '"') {
                in_str = false;
            }
        } else if (json_ws(*p)) {
            add_args(tt, k, run, (size_t)(p - run));
            run = p + 1;
        } else if (*p == '"') {
            in_str = true;
        }
    }
    add_args(tt, k, run, (size_t)(p - run));
}

/* Starts call number k (== res->tool_calls): counted, and given its slot
 * in the request's storage, when there is room. */
static void new_call(cw_tool_track_t *tt, cw_result_t *res, uint32_t k,
                     int64_t idx)
{
    res->tool_calls++;
    tt->args_need += 1u; /* its NUL */
    if (k < CW_TOOL_TRACK_MAX) {
        tt->seen[k].index = idx >= 0 && idx < INT32_MAX ? (int32_t)idx
                                                        : INT32_MIN;
        tt->seen[k].id_hash = 0;
        tt->seen[k].named = false;
    }
    if (tt->calls == NULL) {
        return;
    }
    if (k >= tt->max) {
        tt->flags |= CW_TT_TOO_MANY;
        return;
    }
    memset(&tt->calls[k], 0, sizeof tt->calls[k]);
    tt->calls[k].index = idx >= 0 && idx <= (int64_t)UINT32_MAX ? (uint32_t)idx
                                                                : k;
    if (tt->args_need <= tt->args_size) {
        tt->calls[k].arguments = tt->args + tt->args_used;
        tt->args[tt->args_used++] = '\0';
    } else {
        tt->calls[k].arguments = NULL; /* no room: said at the end */
    }
}

/* Keeps a short string (id, type or name) of call k the first time it is
 * given: never joined with what later fragments repeat. */
static void keep(cw_tool_track_t *tt, uint32_t k, char *dst, size_t size,
                 const char *s, size_t n, uint8_t flag)
{
    if (s == NULL || tt->calls == NULL || k >= tt->max || dst[0] != '\0') {
        return;
    }
    if (n >= size) {
        tt->flags |= flag; /* too long to keep whole: said at the end */
        return;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* One element of "tool_calls" (at el): which call it belongs to, and what
 * it adds. */
static int tool_fragment(const doc_t *d, int el, cw_result_t *res,
                         cw_tool_track_t *tt, int64_t position)
{
    int fn = get(d, el, "function");
    int args = get(d, fn, "arguments");
    int64_t idx = int_at(d, get(d, el, "index"));
    char *id;
    char *name;
    char *type;
    size_t id_n;
    size_t name_n;
    size_t type_n;
    uint32_t hash;
    uint32_t k;
    int rc = given(d, get(d, el, "id"), &id, &id_n);

    if (rc == CW_OK) {
        rc = given(d, get(d, fn, "name"), &name, &name_n);
    }
    if (rc == CW_OK) {
        rc = given(d, get(d, el, "type"), &type, &type_n);
    }
    if (rc != CW_OK) {
        return rc;
    }
    if (idx < 0 && !tt->stream) {
        idx = position; /* a whole message numbers its calls in order */
    }
    hash = id != NULL ? id_hash(id, id_n) : 0u;
    k = which_call(tt, res, idx, hash, name != NULL);
    if (k == res->tool_calls) {
        new_call(tt, res, k, idx);
    }
    tt->cur = k;
    if (k < CW_TOOL_TRACK_MAX) {
        if (hash != 0u && tt->seen[k].id_hash == 0u) {
            tt->seen[k].id_hash = hash;
        }
        if (name != NULL && !tt->seen[k].named) {
            tt->seen[k].named = true;
            add_tool_name(name, name_n, res);
        }
    } else if (name != NULL) {
        add_tool_name(name, name_n, res);
    }
    if (tt->calls != NULL && k < tt->max) {
        cw_tool_call_t *c = &tt->calls[k];
        keep(tt, k, c->id, sizeof c->id, id, id_n, CW_TT_LONG_ID);
        keep(tt, k, c->name, sizeof c->name, name, name_n, CW_TT_LONG_NAME);
        keep(tt, k, c->type, sizeof c->type, type, type_n, CW_TT_LONG_NAME);
    }
    if (tok_is(d, args, JSMN_STRING)) {
        char *a;
        size_t n;
        if (str(d, args, &a, &n) != CW_OK) {
            return CW_ERR_MALFORMED;
        }
        add_args(tt, k, a, n);
        if (n > 0u && tt->on_args != NULL &&
            tt->on_args(tt->on_args_user, k, a, n) != 0) {
            return CW_ERR_ABORTED;
        }
    } else if (tok_is(d, args, JSMN_OBJECT) || tok_is(d, args, JSMN_ARRAY)) {
        size_t before = tt->args_need;
        add_json_args(tt, k, d, args);
        if (tt->on_args != NULL && tt->calls != NULL && k < tt->max &&
            tt->args_need <= tt->args_size) {
            const cw_tool_call_t *c = &tt->calls[k];
            size_t n = tt->args_need - before;
            if (tt->on_args(tt->on_args_user, k,
                            c->arguments + c->arguments_len - n, n) != 0) {
                return CW_ERR_ABORTED;
            }
        }
    }
    return CW_OK;
}

/* The tool calls of a message or delta (at obj): "tool_calls" elements,
 * and the older single "function_call" (one call, index 0). tt->stream
 * tells fragments (deltas) from whole calls (a message). */
static int tool_calls(const doc_t *d, int obj, cw_result_t *res,
                      cw_tool_track_t *tt)
{
    int arr = get(d, obj, "tool_calls");
    int fc = get(d, obj, "function_call");
    int i = arr + 1;
    int k;
    int rc = CW_OK;

    for (k = 0; tok_is(d, arr, JSMN_ARRAY) && k < d->t[arr].size &&
                i < d->n && rc == CW_OK; k++) {
        if (tok_is(d, i, JSMN_OBJECT)) {
            rc = tool_fragment(d, i, res, tt, (int64_t)res->tool_calls);
        }
        i = skip(d, i);
    }
    if (rc == CW_OK && tok_is(d, fc, JSMN_OBJECT)) {
        /* the deprecated functions API: its object is the "function" */
        char *name;
        size_t n;
        int args = get(d, fc, "arguments");
        rc = given(d, get(d, fc, "name"), &name, &n);
        if (rc == CW_OK && res->tool_calls == 0u) {
            new_call(tt, res, 0, 0);
        }
        if (rc == CW_OK && name != NULL && tt->calls != NULL && tt->max > 0u) {
            keep(tt, 0, tt->calls[0].name, sizeof tt->calls[0].name, name, n,
                 CW_TT_LONG_NAME);
        }
        if (rc == CW_OK && name != NULL && !tt->seen[0].named) {
            tt->seen[0].named = true;
            add_tool_name(name, n, res);
        }
        if (rc == CW_OK && tok_is(d, args, JSMN_STRING)) {
            char *a;
            size_t an;
            rc = str(d, args, &a, &an);
            if (rc == CW_OK) {
                add_args(tt, 0, a, an);
            }
        }
    }
    return rc;
}
#else
/* Tool calls not read (CW_CONFIG_TOOLS 0): finish_reason still tells. */
static int tool_calls(const doc_t *d, int obj, cw_result_t *res,
                      cw_tool_track_t *tt)
{
    (void)d;
    (void)obj;
    (void)res;
    (void)tt;
    return CW_OK;
}
#endif /* CW_CONFIG_TOOLS */

/* Fills res->error from an error object ({"error": {...}}), an error string
 * ({"error": "text"}) or vLLM's top-level form. Returns CW_OK if found. */
/* Strings of an object copied into the result, by table: where each goes
 * (an offset in cw_result_t) and its size. Absent or null members leave
 * their field as it is. *cut tells whether the first one was cut. */
typedef struct field {
    char key[8];
    uint16_t off;
    uint16_t size;
} field_t;

#define FIELD(key, member)                                                   \
    { key, (uint16_t)offsetof(cw_result_t, member),                          \
      (uint16_t)sizeof(((cw_result_t *)0)->member) }

static const field_t error_fields[] = {
    FIELD("message", error.message), FIELD("type", error.type),
    FIELD("code", error.code), FIELD("param", error.param),
};
static const field_t id_fields[] = { FIELD("id", id), FIELD("model", model) };

typedef char field_size_check[(CW_ERROR_MESSAGE_MAX <= 0xffffu &&
                               CW_FIELD_MAX <= 0xffffu) ? 1 : -1];

static int copy_fields(const doc_t *d, int obj, cw_result_t *res,
                       const field_t *f, size_t n, bool *cut)
{
    size_t k;
    int rc = CW_OK;

    for (k = 0; k < n && rc == CW_OK; k++) {
        int i = get(d, obj, f[k].key);
        bool c = false;
        if (i >= 0) {
            rc = copy_to(d, i, (char *)res + f[k].off, f[k].size, &c);
        }
        if (k == 0u) {
            *cut = c;
        }
    }
    return rc;
}

/* Where the error object is: the "error" member when it is there and not
 * null, the root for vLLM's top-level {"object": "error", ...}, else -1. */
static int error_at(const doc_t *d)
{
    int e = get(d, 0, "error");
    int o;

    if (e >= 0 && !tok_is_null(d, e)) {
        return e;
    }
    o = get(d, 0, "object");
    return o >= 0 && tok_eq(d, o, "error") ? 0 : -1;
}

/* Fills res->error from the error at obj (see error_at): {"error": {...}},
 * {"error": "text"}, or vLLM's form. CW_ERR_MALFORMED when it is none. */
static int error_object(const doc_t *d, int obj, cw_result_t *res)
{
    cw_api_error_t *e = &res->error;

    if (tok_is(d, obj, JSMN_STRING)) {
        e->present = true;
        return copy_to(d, obj, e->message, sizeof e->message,
                       &e->message_truncated);
    }
    if (!tok_is(d, obj, JSMN_OBJECT) ||
        (obj == 0 && get(d, 0, "message") < 0)) {
        return CW_ERR_MALFORMED;
    }
    e->present = true;
    return copy_fields(d, obj, res, error_fields,
                       sizeof error_fields / sizeof error_fields[0],
                       &e->message_truncated);
}

/* id and model, when present. */
static int ids(const doc_t *d, cw_result_t *res)
{
    bool cut;
    return copy_fields(d, 0, res, id_fields,
                       sizeof id_fields / sizeof id_fields[0], &cut);
}

int cw_json_error(char *json, size_t len, void *tokens, size_t ntok,
                  cw_result_t *res)
{
    doc_t d;
    int rc = parse(&d, json, len, tokens, ntok, res);
    if (rc == CW_OK) {
        rc = error_object(&d, error_at(&d), res);
    }
    return rc;
}

/* What completions and chunks share: the text tokenised, an error object
 * reported (CW_ERR_API), id, model and usage kept, and the choice that
 * counts found (*choice, -1 for none). */
static int open_doc(doc_t *d, char *json, size_t len, void *tokens,
                    size_t ntok, cw_result_t *res, int *choice)
{
    int rc = parse(d, json, len, tokens, ntok, res);
    int err;

    *choice = -1;
    if (rc != CW_OK) {
        return rc;
    }
    err = error_at(d);
    if (err >= 0) {
        rc = error_object(d, err, res);
        return rc == CW_OK ? CW_ERR_API : rc;
    }
    usage(d, get(d, 0, "usage"), res);
    *choice = choice0(d, get(d, 0, "choices"));
    return ids(d, res);
}

/* The string member key of obj, unescaped in place (*out NULL when absent
 * or null); CW_ERR_MALFORMED, with the offset, when it is something else. */
static int text_of(const doc_t *d, int obj, const char *key, char **out,
                   size_t *len, cw_result_t *res)
{
    int i = get(d, obj, key);

    *out = NULL;
    if (tok_is(d, i, JSMN_STRING)) {
        return str(d, i, out, len);
    }
    if (i >= 0 && !tok_is_null(d, i)) {
        res->error_offset = (uint64_t)d->t[i].start;
        return CW_ERR_MALFORMED;
    }
    return CW_OK;
}

#if CW_CONFIG_REASONING
/* The reasoning text of a message or delta (at obj), into *out: its
 * reasoning_content (DeepSeek, vLLM, llama.cpp, Qwen), or else its
 * reasoning (OpenRouter, Groq, Ollama), or else the texts of OpenRouter's
 * reasoning_details, joined in place; each counted once (OpenRouter sends
 * the same text as reasoning and in reasoning_details). */
static int reasoning_of(const doc_t *d, int obj, cw_chunk_t *out,
                        cw_result_t *res)
{
    int det;
    int i;
    int k;
    char *at = NULL;
    size_t total = 0;
    int rc = text_of(d, obj, "reasoning_content", &out->reasoning,
                     &out->reasoning_len, res);

    if (rc != CW_OK || out->reasoning != NULL) {
        return rc;
    }
    rc = text_of(d, obj, "reasoning", &out->reasoning, &out->reasoning_len,
                 res);
    if (rc != CW_OK || out->reasoning != NULL) {
        return rc;
    }
    det = get(d, obj, "reasoning_details");
    i = det + 1;
    for (k = 0; tok_is(d, det, JSMN_ARRAY) && k < d->t[det].size &&
                i < d->n; k++) {
        int t = get(d, i, "text");
        int ty = get(d, i, "type");
        char *txt;
        size_t n;
        /* reasoning.text (or no type); not reasoning.encrypted or
         * summaries, which are not the reasoning itself */
        if (tok_is(d, t, JSMN_STRING) &&
            (ty < 0 || tok_eq(d, ty, "reasoning.text"))) {
            if (str(d, t, &txt, &n) != CW_OK) {
                return CW_ERR_MALFORMED;
            }
            if (at == NULL) {
                at = txt;
            } else if (n > 0u) {
                memmove(at + total, txt, n); /* left, within the array */
            }
            total += n;
        }
        i = skip(d, i);
    }
    out->reasoning = at;
    out->reasoning_len = total;
    return CW_OK;
}
#endif

static bool called_tools(const cw_result_t *res)
{
    return res->tool_calls > 0u ||
           strcmp(res->finish_reason, "tool_calls") == 0;
}

int cw_json_completion(char *json, size_t len, void *tokens, size_t ntok,
                       cw_result_t *res CW_COMPLETION_EXTRA_PARAM)
{
    doc_t d;
    int choice;
    int msg;
    char *s;
    int rc = open_doc(&d, json, len, tokens, ntok, res, &choice);
#if !(CW_CONFIG_TOOLS || CW_CONFIG_REASONING)
    cw_tool_track_t *tt = NULL;
#endif
#if CW_CONFIG_TOOLS && !CW_CONFIG_REASONING
    (void)extra;
#endif

    if (rc != CW_OK) {
        return rc;
    }
    msg = get(&d, choice, "message");
    if (!tok_is(&d, msg, JSMN_OBJECT)) {
        res->error_offset = (uint64_t)d.t[0].start;
        return CW_ERR_MALFORMED; /* no choices[0].message */
    }
    rc = copy_to(&d, get(&d, choice, "finish_reason"), res->finish_reason,
                 sizeof res->finish_reason, NULL);
    if (rc == CW_OK) {
        rc = tool_calls(&d, msg, res, tt);
    }
#if CW_CONFIG_REASONING
    if (rc == CW_OK) {
        rc = reasoning_of(&d, msg, extra, res);
    }
#endif
    if (rc == CW_OK) {
        rc = text_of(&d, msg, "content", &s, &res->content_len, res);
        res->content = s;
    }
    if (rc != CW_OK) {
        return rc;
    }
    if (called_tools(res)) {
        res->content_null = s == NULL;
        return CW_ERR_TOOL_CALLS; /* with text or without: the calls matter */
    }
    if (s != NULL) {
        return CW_OK;
    }
    res->content_null = true;
    rc = text_of(&d, msg, "refusal", &s, &res->content_len, res);
    if (rc == CW_OK && s != NULL) {
        res->content = s;
        res->refusal = true;
    }
    res->content_len = s != NULL ? res->content_len : 0u;
    return rc == CW_OK ? CW_ERR_NO_CONTENT : rc;
}

#if CW_CONFIG_STREAM_FAST_PATHS
/* ------------------------------------------------------------ fast path
 *
 * The common stream chunk ({"id":...,"choices":[{"index":0,"delta":
 * {"content":"..."},"finish_reason":null}],...}) read in one pass, with no
 * token array and no second walk: the same results as the jsmn path
 * (cw_json_chunk_jsmn), or none at all. It takes only texts it can show the
 * jsmn path reads the same way, and leaves every other one, a broken one
 * included, to that path, which then says what is wrong:
 *  - RFC 8259 JSON whose root is an object spanning the text up to a
 *    final '}' (nothing after it), at most FAST_DEPTH deep, with numbers,
 *    true, false and null spelled exactly and no NUL byte inside a string.
 *    jsmn (JSMN_STRICT) and the grammar check accept every such text, and
 *    build the tree the text has;
 *  - no more tokens (containers, keys, strings and primitives) than ntok;
 *  - no error object, no "object": "error", no usage object, no tool
 *    calls, no reasoning text (reasoning_content, reasoning,
 *    reasoning_details: each absent or null), and a chosen delta whose
 *    content and refusal are strings or null: the texts where the jsmn path
 *    does more than the copies below.
 * Each member is the first of its name, its name compared byte for byte as
 * written, as get() finds it; the choice is the first element of the first
 * "choices" array whose first "index" is 0 or absent, as choice0() picks
 * it; and the same copies and in-place unescaping follow, in the same
 * order. tests/fuzz/fuzz_json_fast.c compares both paths on arbitrary
 * input. */

#define FAST_DEPTH 16u

/* What a value is. A string's kind says whether it has escapes. */
enum {
    FK_ABSENT, FK_NULL, FK_PRIM, FK_OBJECT, FK_ARRAY, FK_STRING, FK_ESCAPED
};
enum { R_OTHER, R_ROOT, R_CHOICES, R_CHOICE, R_DELTA };
/* The members read: the root's, then the choice's and its delta's
 * (M_CHOICE onwards: the current element's until one is chosen, then the
 * chosen one's, since later elements are not read). M_ELEMENT (an element
 * of the choices array) and M_NONE have slots too, written and never
 * read, so that every value is written somewhere. */
enum {
    M_ID, M_MODEL, M_ERROR, M_OBJECT, M_USAGE, M_CHOICES, M_INDEX, M_FINISH,
    M_DELTA, M_CONTENT, M_REFUSAL, M_TOOLS, M_FUNCTION, M_REASONING,
    M_COUNT,
    M_ELEMENT = M_COUNT, M_NONE, M_SLOTS
};
#define M_CHOICE M_INDEX
#define N_CHOICE (M_COUNT - M_CHOICE)

typedef struct fval {
    uint32_t at;  /* first byte (after the quote, for a string) */
    uint32_t len; /* bytes as written (escapes too) */
} fval_t;

typedef struct fast {
    fval_t v[M_SLOTS];
    union {
        uint8_t kind[M_SLOTS];
        uint32_t words[(M_SLOTS + 3) / 4]; /* to clear it in a few stores */
    } k;
    bool picked;
} fast_t;

/* The run through a string stops at its quote, a backslash, a NUL (where
 * jsmn stops) and '}', which fast_scan makes sure the text ends with: no
 * loop of the scan reads past that last byte. */
#define STOPS(c) ((cw_byte_class[(uint8_t)(c)] & CW_C_JSTOP) != 0u)
#define WS(c) ((cw_byte_class[(uint8_t)(c)] & CW_C_JWS) != 0u)

/* The first stop byte after s (a string's quote, or a stop byte inside
 * it), four bytes a turn: never one past the stop byte. */
static const char *str_run(const char *s)
{
    for (;;) {
        if (STOPS(s[1])) {
            return s + 1;
        }
        if (STOPS(s[2])) {
            return s + 2;
        }
        if (STOPS(s[3])) {
            return s + 3;
        }
        if (STOPS(s[4])) {
            return s + 4;
        }
        s += 4;
    }
}

static bool is_digit(char c)
{
    return (unsigned char)(c - '0') < 10u;
}

/* The string whose quote is at s (before end, the final '}'), when its
 * first stop byte is not its closing quote: a pointer past that quote, or
 * NULL when the fast path does not take it (a NUL, an escape JSON does not
 * have, or no closing quote). */
static const char *fast_string(const char *s, const char *end)
{
    const char *q = s;

    for (;;) {
        char c;
        q = str_run(q);
        c = *q;
        if (c == '"') {
            return q + 1;
        }
        if (c == '}') {
            if (q == end) {
                return NULL; /* no closing quote */
            }
        } else if (c == '\\') {
            /* before end: what follows is there */
            c = *++q;
            if (c == 'u') {
                int k;
                for (k = 0; k < 4; k++) { /* never past the final '}' */
                    c = cw_lower(*++q);
                    if (!is_digit(c) && (c < 'a' || c > 'f')) {
                        return NULL;
                    }
                }
            } else if (c == '\0' || strchr("\"\\/bfnrt", c) == NULL) {
                return NULL;
            }
        } else {
            return NULL; /* a NUL */
        }
    }
}

/* A number as RFC 8259 spells it, at s: a pointer past it, or NULL. */
static const char *fast_number(const char *s)
{
    if (*s == '-') {
        s++;
    }
    if (*s == '0') {
        s++;
    } else if (is_digit(*s)) {
        while (is_digit(*s)) {
            s++;
        }
    } else {
        return NULL;
    }
    if (*s == '.') {
        if (!is_digit(*++s)) {
            return NULL;
        }
        while (is_digit(*s)) {
            s++;
        }
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') {
            s++;
        }
        if (!is_digit(*s)) {
            return NULL;
        }
        while (is_digit(*s)) {
            s++;
        }
    }
    return s;
}

/* Whether k[0..n) is name (n bytes): four bytes a turn (a word load
 * each, where unaligned loads are allowed), cheaper than a memcmp call
 * for names this short. */
static bool same(const char *k, const char *name, size_t n)
{
    uint32_t a;
    uint32_t b;

    for (; n >= 4u; n -= 4u, k += 4, name += 4) {
        memcpy(&a, k, 4);
        memcpy(&b, name, 4);
        if (a != b) {
            return false;
        }
    }
    for (; n > 0u; n--) {
        if (*k++ != *name++) {
            return false;
        }
    }
    return true;
}

/* true, false or null at s (before end): a pointer past it, or NULL.
 * The first four bytes are compared as a word. */
static const char *fast_literal(const char *s, const char *end, uint8_t *kind)
{
    const char *lit = *s == 't' ? "true" : *s == 'f' ? "false" : "null";
    size_t n = *s == 'f' ? 5u : 4u;
    uint32_t a;
    uint32_t b;

    *kind = *s == 'n' ? FK_NULL : FK_PRIM;
    if ((size_t)(end - s) < n) {
        return NULL;
    }
    memcpy(&a, s, 4);
    memcpy(&b, lit, 4);
    return a == b && (n == 4u || s[4] == 'e') ? s + n : NULL;
}

/* Which member the key k[0..n) names in a container of role r, or M_NONE
 * (also for a member already seen: the first one counts). */
static unsigned fast_member(const fast_t *f, unsigned r, const char *k,
                            size_t n)
{
    const char *name = "";
    unsigned m = M_NONE;

    if (n > 13u) {
        /* the two names this long, a delta's: rare enough to be tested
         * apart from the switch of the usual ones */
        if (n != 17u || r != R_DELTA) {
            return M_NONE;
        }
        name = k[10] == 'c' ? "reasoning_content" : "reasoning_details";
        m = M_REASONING;
    }
    switch (n > 13u ? 0u : r * 16u + n) {
    case R_ROOT * 16u + 2u:
        name = "id";
        m = M_ID;
        break;
    case R_ROOT * 16u + 5u:
        name = k[0] == 'm' ? "model" : k[0] == 'e' ? "error" : "usage";
        m = k[0] == 'm' ? M_MODEL : k[0] == 'e' ? M_ERROR : M_USAGE;
        break;
    case R_ROOT * 16u + 6u:
        name = "object";
        m = M_OBJECT;
        break;
    case R_ROOT * 16u + 7u:
        name = "choices";
        m = M_CHOICES;
        break;
    case R_CHOICE * 16u + 5u:
        name = k[0] == 'i' ? "index" : "delta";
        m = k[0] == 'i' ? M_INDEX : M_DELTA;
        break;
    case R_CHOICE * 16u + 13u:
        name = "finish_reason";
        m = M_FINISH;
        break;
    case R_DELTA * 16u + 7u:
        name = k[0] == 'c' ? "content" : "refusal";
        m = k[0] == 'c' ? M_CONTENT : M_REFUSAL;
        break;
    case R_DELTA * 16u + 10u:
        name = "tool_calls";
        m = M_TOOLS;
        break;
    case R_DELTA * 16u + 13u:
        name = "function_call";
        m = M_FUNCTION;
        break;
    case R_DELTA * 16u + 9u:
        name = "reasoning";
        m = M_REASONING;
        break;
    default:
        break;
    }
    /* reasoning_content, reasoning and reasoning_details share a slot that
     * ends up above null when any of them is (the fast path then declines,
     * whichever of them the jsmn path would read) */
    return m != M_NONE && same(k, name, n) &&
                   (f->k.kind[m] == FK_ABSENT ||
                    (m == M_REASONING && f->k.kind[m] == FK_NULL))
               ? m : M_NONE;
}

/* The element that just ended is the choice when none was yet and its
 * first "index" is absent or an integer 0 (int_at's reading: only "0" is
 * both a JSON number and digits worth 0). */
static void fast_choice_end(const char *js, fast_t *f)
{
    if (f->k.kind[M_INDEX] == FK_ABSENT ||
        (f->k.kind[M_INDEX] == FK_PRIM && f->v[M_INDEX].len == 1u &&
         js[f->v[M_INDEX].at] == '0')) {
        f->picked = true;
    }
}

/* White space is rare between tokens: each place tests the byte it
 * expects first, and skips white space only when that is not it. */
static const char *skip_ws(const char *s)
{
    while (WS(*s)) {
        s++;
    }
    return s;
}

/* Reads json[0..len) into f; false when the fast path does not take it.
 * The container being read is in role and close (its role, the byte that
 * ends it); the ones around it wait in outer. */
static bool fast_scan(const char *js, size_t len, size_t ntok, fast_t *f)
{
    uint8_t outer[FAST_DEPTH][2];
    const char *end = js + len - 1u; /* the final '}' */
    const char *s;
    size_t depth = 0;
    size_t tokens = 0;
    unsigned m = M_NONE; /* the member whose value is at s */
    unsigned role = R_OTHER;
    char close = 0;

    memset(f->k.words, 0, sizeof f->k.words);
    f->picked = false;
    if (len < 2u || len > (size_t)INT32_MAX || ntok > (size_t)INT32_MAX ||
        *end != '}') {
        return false;
    }
    s = skip_ws(js);
    if (*s != '{') {
        return false;
    }
    for (;;) {
        /* a value */
        fval_t *v = &f->v[m];
        const char *q;
        char c = *s;
        bool opened = false;

        if (c != '"' && WS(c)) {
            s = skip_ws(s);
            c = *s;
        }
        tokens++;
        if (c == '"') {
            q = str_run(s);
            f->k.kind[m] = FK_STRING;
            if (*q == '"') {
                q++;
            } else if ((q = fast_string(s, end)) != NULL) {
                f->k.kind[m] = FK_ESCAPED;
            } else {
                return false;
            }
            v->at = (uint32_t)(s - js) + 1u;
            v->len = (uint32_t)(q - s) - 2u;
            s = q;
        } else if (c == '{' || c == '[') {
            unsigned r = R_OTHER;
            if (depth == FAST_DEPTH) {
                return false;
            }
            if (depth == 0u) {
                r = R_ROOT;
            } else if (m == M_CHOICES && c == '[') {
                r = R_CHOICES;
            } else if (m == M_DELTA && c == '{') {
                r = R_DELTA;
            } else if (m == M_ELEMENT && c == '{') {
                r = R_CHOICE;
            }
            f->k.kind[m] = c == '{' ? FK_OBJECT : FK_ARRAY;
            outer[depth][0] = (uint8_t)role;
            outer[depth][1] = (uint8_t)close;
            depth++;
            role = r;
            close = c == '{' ? '}' : ']';
            s = skip_ws(s + 1);
            /* its end at once, or its first member (no comma before) */
            opened = *s != close;
        } else {
            if (c == 't' || c == 'f' || c == 'n') {
                q = fast_literal(s, end, &f->k.kind[m]);
            } else {
                q = fast_number(s);
                f->k.kind[m] = FK_PRIM;
            }
            if (q == NULL) {
                return false;
            }
            v->at = (uint32_t)(s - js);
            v->len = (uint32_t)(q - s);
            s = q;
        }
        /* after the value: ends of containers, then a comma */
        while (!opened) {
            c = *s;
            if (c == ',') {
                s++;
                break;
            }
            if (c == close) {
                if (role == R_CHOICE) {
                    fast_choice_end(js, f);
                }
                if (--depth == 0u) {
                    /* the root's '}' ends the text */
                    return s == end && tokens <= ntok;
                }
                if (s == end) {
                    return false; /* the root is not closed */
                }
                role = outer[depth][0];
                close = (char)outer[depth][1];
                s++;
            } else if (WS(c)) {
                s = skip_ws(s);
            } else {
                return false;
            }
        }
        /* the next member of the container */
        if (close == ']') {
            m = M_NONE;
            if (role == R_CHOICES && !f->picked) {
                /* an element of the choices array while none is chosen:
                 * the last one's members go; an object is chosen (or not)
                 * at its end, anything else now: no member at all, no
                 * index, which choice0 takes */
                m = M_ELEMENT;
                /* a constant size: a few stores, no call */
                memset(&f->k.kind[M_CHOICE], FK_ABSENT, N_CHOICE);
                if (*skip_ws(s) != '{') {
                    f->picked = true;
                }
            }
            continue;
        }
        /* a key, and ':' */
        if (*s != '"') {
            s = skip_ws(s);
            if (*s != '"') {
                return false;
            }
        }
        q = str_run(s);
        tokens++;
        if (*q == '"') {
            m = fast_member(f, role, s + 1, (size_t)(q - s) - 1u);
            s = q + 1;
        } else if ((s = fast_string(s, end)) != NULL) {
            m = M_NONE; /* an escape: no name of ours, byte for byte */
        } else {
            return false;
        }
        if (*s != ':') {
            s = skip_ws(s);
            if (*s != ':') {
                return false;
            }
        }
        s++;
    }
}

/* str() for a string the scan found: unescaped in place, NUL-terminated. */
static size_t fast_str(char *js, const fast_t *f, unsigned m)
{
    const fval_t *v = &f->v[m];
    size_t n = f->k.kind[m] == FK_ESCAPED
                   ? cw_json_unescape(js + v->at, v->len) : v->len;
    CW_ASSERT(n != UNESCAPE_ERROR); /* the scan checked every escape */
    js[v->at + n] = '\0';
    return n;
}

/* copy_to() for member m (nothing when it is absent). */
static void fast_copy(char *js, const fast_t *f, unsigned m, char *dst,
                      size_t size)
{
    uint8_t kind = f->k.kind[m];

    if (kind == FK_ABSENT) {
        return;
    }
    dst[0] = '\0';
    if (kind >= FK_STRING) {
        size_t n = fast_str(js, f, m);
        (void)cw_copy_field(dst, size, js + f->v[m].at, n);
    } else if (kind == FK_PRIM) {
        (void)cw_copy_field(dst, size, js + f->v[m].at, f->v[m].len);
    }
}

/* A string, null or absent (text_of's readings that are not an error). */
static bool text_or_null(uint8_t kind)
{
    return kind == FK_ABSENT || kind == FK_NULL || kind >= FK_STRING;
}

bool cw_json_chunk_fast(char *json, size_t len, size_t ntok,
                        cw_result_t *res, cw_chunk_t *chunk)
{
    fast_t f;
    const uint8_t *k = f.k.kind;

    if (!fast_scan(json, len, ntok, &f) ||
        k[M_ERROR] > FK_NULL ||
        (k[M_OBJECT] == FK_STRING && f.v[M_OBJECT].len == 5u &&
         memcmp(json + f.v[M_OBJECT].at, "error", 5) == 0) ||
        k[M_USAGE] == FK_OBJECT ||
        (f.picked && (!text_or_null(k[M_CONTENT]) ||
                      !text_or_null(k[M_REFUSAL]) ||
                      /* kinds above null have a bit above FK_NULL's */
                      (k[M_TOOLS] | k[M_FUNCTION] | k[M_REASONING]) >
                          FK_NULL))) {
        return false; /* the jsmn path's */
    }
    /* what open_doc() and cw_json_chunk_jsmn() do, in their order */
    fast_copy(json, &f, M_ID, res->id, sizeof res->id);
    fast_copy(json, &f, M_MODEL, res->model, sizeof res->model);
    chunk->content = NULL;
    chunk->content_len = 0;
    chunk->refusal = NULL;
    chunk->refusal_len = 0;
    chunk->reasoning = NULL;
    chunk->reasoning_len = 0;
    chunk->error = false;
    if (!f.picked) {
        return true;
    }
    if (k[M_FINISH] != FK_NULL) {
        fast_copy(json, &f, M_FINISH, res->finish_reason,
                  sizeof res->finish_reason);
    }
    if (k[M_CONTENT] >= FK_STRING) {
        chunk->content_len = fast_str(json, &f, M_CONTENT);
        chunk->content = json + f.v[M_CONTENT].at;
    }
    if (k[M_REFUSAL] >= FK_STRING) {
        chunk->refusal_len = fast_str(json, &f, M_REFUSAL);
        chunk->refusal = json + f.v[M_REFUSAL].at;
    }
    return true;
}

int cw_json_chunk(char *json, size_t len, void *tokens, size_t ntok,
                  cw_result_t *res, cw_chunk_t *chunk, cw_tool_track_t *tt)
{
    if (cw_json_chunk_fast(json, len, ntok, res, chunk)) {
        return CW_OK;
    }
    return cw_json_chunk_jsmn(json, len, tokens, ntok, res, chunk, tt);
}
#define JSMN_CHUNK cw_json_chunk_jsmn
#else
#define JSMN_CHUNK cw_json_chunk
#endif /* CW_CONFIG_STREAM_FAST_PATHS */

/* The jsmn path: every text, whatever its shape. */
int JSMN_CHUNK(char *json, size_t len, void *tokens, size_t ntok,
               cw_result_t *res, cw_chunk_t *chunk, cw_tool_track_t *tt)
{
    doc_t d;
    int choice;
    int delta;
    int rc = open_doc(&d, json, len, tokens, ntok, res, &choice);

    memset(chunk, 0, sizeof *chunk);
    chunk->error = rc == CW_ERR_API;
    if (rc != CW_OK || choice < 0) {
        return rc; /* e.g. the usage chunk: "choices": [] */
    }
    delta = get(&d, choice, "finish_reason");
    if (delta >= 0 && !tok_is_null(&d, delta)) {
        rc = copy_to(&d, delta, res->finish_reason,
                     sizeof res->finish_reason, NULL);
    }
    delta = get(&d, choice, "delta");
    if (rc == CW_OK) {
        rc = tool_calls(&d, delta, res, tt);
    }
    if (rc == CW_OK) {
        rc = text_of(&d, delta, "content", &chunk->content,
                     &chunk->content_len, res);
    }
    if (rc == CW_OK) {
        rc = text_of(&d, delta, "refusal", &chunk->refusal,
                     &chunk->refusal_len, res);
    }
#if CW_CONFIG_REASONING
    if (rc == CW_OK) {
        rc = reasoning_of(&d, delta, chunk, res);
    }
#endif
    return rc;
}
