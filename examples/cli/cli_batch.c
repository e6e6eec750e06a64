/*
 * cli_batch.c - chatwire --batch FILE --concurrency N: each line of FILE
 * sent as its own streamed chat, up to N at once over N connections, all
 * in one thread and one poll() loop over the step API (cw_chat_start,
 * cw_chat_step). One JSON line per prompt on standard output, in the
 * order of the file, as soon as it and the ones before it are done.
 *
 * This is a program, not the library: it allocates (the slots, the
 * answers waiting to be printed) with malloc.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli_batch.h"

#include "chatwire.h"
#include "chatwire_proxy.h"
#include "cli_extra.h"
#include "cw_posix.h"
#include "cw_tls.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_IO 4096u
#define SLOT_WORK (64u * 1024u)

/* One chat's answer as it arrives, and its JSON line once it is over. */
typedef struct answer {
    char *text;
    size_t len;
    size_t cap;
    bool failed_alloc;
    int rc;     /* the chat's status, once it is over */
    char *line; /* NULL until the chat is over */
} answer_t;

/* One connection and the chat on it. */
typedef struct slot {
    cw_posix_t sock;
    cw_proxy_t proxy;
    bool proxy_on;
    cw_tls_t tls;
    bool tls_on;
    cw_client_t client;
    cw_chat_request_t req;
    cw_message_t msgs[2];
    cw_result_t res;
    cw_wait_t wait;
    uint32_t wait_from; /* now_ms when wait was given */
    size_t prompt;      /* which line; SIZE_MAX: idle */
    answer_t *answer;
    uint8_t io[SLOT_IO];
    uint8_t work[SLOT_WORK];
} slot_t;

static int on_delta(void *user, const char *text, size_t len)
{
    answer_t *a = (answer_t *)user;

    if (a->len + len + 1u > a->cap) {
        size_t cap = a->cap > 0u ? a->cap : 1024u;
        char *p;
        while (cap < a->len + len + 1u) {
            cap *= 2u;
        }
        p = (char *)realloc(a->text, cap);
        if (p == NULL) {
            a->failed_alloc = true;
            return 1; /* stop this chat */
        }
        a->text = p;
        a->cap = cap;
    }
    memcpy(a->text + a->len, text, len);
    a->len += len;
    return 0;
}

/* The JSON line of a chat that is over: the fields of --output json (no
 * tool calls or reasoning: the batch offers neither), with "index",
 * "status" (the status in words, null when it succeeded) and "detail".
 * Written into a memory stream: the caller frees it; NULL when out of
 * memory. */
static char *json_line(size_t index, int rc, const cw_result_t *res,
                       const answer_t *a, const char *detail)
{
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);

    if (f == NULL) {
        return NULL;
    }
    fprintf(f, "{\"index\":%zu,\"content\":", index);
    cli_json_string(f, a->len > 0u && !res->refusal ? a->text : NULL, a->len);
    fputs(",\"refusal\":", f);
    cli_json_string(f, res->refusal ? res->error.message : NULL,
                    strlen(res->error.message));
    fputc(',', f);
    cli_json_result(f, res);
    fputs(",\"status\":", f);
    if (rc == CW_OK) {
        fputs("null", f);
    } else {
        const char *st = a->failed_alloc ? "out of memory for the answer"
                                         : cw_strerror((cw_status_t)rc);
        cli_json_string(f, st, strlen(st));
    }
    fputs(",\"detail\":", f);
    cli_json_string(f, detail[0] != '\0' ? detail : NULL, strlen(detail));
    fputs("}\n", f);
    if (ferror(f)) {
        fclose(f);
        free(line);
        return NULL;
    }
    fclose(f);
    return line;
}

/* The prompts: the lines of the file, each without its end of line; empty
 * lines are not prompts. *text holds them (the caller frees it). */
static int read_prompts(const char *path, char **text, char ***lines,
                        size_t *n)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 0;
    size_t len = 0;
    char *buf = NULL;
    size_t i;
    size_t count = 0;
    size_t line = 0;
    char **out;

    if (f == NULL) {
        fprintf(stderr, "chatwire: cannot open --batch file %s: %s\n", path,
                strerror(errno));
        return 1;
    }
    for (;;) {
        size_t got;
        if (len + 4096u + 1u > cap) {
            char *p;
            cap = cap > 0u ? cap * 2u : 8192u;
            p = (char *)realloc(buf, cap);
            if (p == NULL) {
                fclose(f);
                free(buf);
                return 1;
            }
            buf = p;
        }
        got = fread(buf + len, 1, cap - len - 1u, f);
        len += got;
        if (got == 0u) {
            break;
        }
    }
    fclose(f);
    buf[len] = '\0';
    for (i = 0; i < len; i++) {
        count += buf[i] == '\n';
    }
    out = (char **)calloc(count + 1u, sizeof *out);
    if (out == NULL) {
        free(buf);
        return 1;
    }
    count = 0;
    for (i = 0; i < len;) {
        size_t end = i;
        size_t ln;
        while (end < len && buf[end] != '\n') {
            end++;
        }
        buf[end] = '\0';
        ln = end - i;
        if (ln > 0u && buf[end - 1u] == '\r') {
            buf[end - 1u] = '\0';
            ln--;
        }
        line++;
        if (strlen(buf + i) != ln) {
            fprintf(stderr, "chatwire: line %zu of %s has a NUL byte: the "
                    "prompts are text, one a line\n", line, path);
            free(out);
            free(buf);
            return 1;
        }
        if (ln > 0u) {
            out[count++] = buf + i;
        }
        i = end + 1u;
    }
    *text = buf;
    *lines = out;
    *n = count;
    return 0;
}

static int slot_init(slot_t *s, const cli_batch_opts_t *o)
{
    cw_client_config_t cfg;
    cw_url_t url;
    int rc;

    memset(&cfg, 0, sizeof cfg);
    if (cw_url_parse(o->base_url, &url) != CW_OK) {
        return CW_ERR_INVALID_ARG;
    }
    cw_posix_init(&s->sock);
    cfg.transport = cw_posix_transport(&s->sock);
    s->proxy_on = o->proxy != NULL;
    if (s->proxy_on) {
        /* its CONNECT goes step by step too (connect_step) */
        if (cw_proxy_init(&s->proxy, cfg.transport, o->proxy) != CW_OK) {
            fprintf(stderr, "chatwire: bad proxy URL (not shown: it may hold "
                    "a password); want http://[user:password@]host[:port]\n");
            return CW_ERR_INVALID_ARG;
        }
        cfg.transport = cw_proxy_transport(&s->proxy);
    }
    s->tls_on = url.tls;
    if (url.tls) {
        cw_tls_config_t tcfg;
        memset(&tcfg, 0, sizeof tcfg);
        tcfg.ca_file = o->ca_file;
        tcfg.min_version = o->tls_min;
        tcfg.max_version = o->tls_max;
        rc = cw_tls_init(&s->tls, cfg.transport, &tcfg);
        if (rc != CW_OK) {
            fprintf(stderr, "chatwire: %s\n", cw_tls_error(&s->tls));
            return rc;
        }
        cfg.transport = cw_tls_transport(&s->tls);
    }
    cfg.base_url = o->base_url;
    cfg.api_key = o->key;
    cfg.auth = o->auth;
    cfg.io_buf = s->io;
    cfg.io_size = sizeof s->io;
    cfg.work_buf = s->work;
    cfg.work_size = sizeof s->work;
    cfg.timeout_ms = o->timeout_ms;
    cfg.connect_timeout_ms = o->connect_timeout_ms;
    cfg.idle_timeout_ms = o->idle_timeout_ms;
    cfg.max_retries = o->max_retries;
    cfg.platform = cw_posix_platform();
    s->prompt = SIZE_MAX;
    return cw_client_init(&s->client, &cfg);
}

/* Starts the chat of prompt i on s; false when it ended at once (its line
 * is then written). */
static bool slot_start(slot_t *s, const cli_batch_opts_t *o, size_t i,
                       const char *prompt, answer_t *a)
{
    size_t n = 0;
    int rc;

    if (o->system != NULL) {
        s->msgs[n].role = "system";
        s->msgs[n].content = o->system;
        n++;
    }
    s->msgs[n].role = "user";
    s->msgs[n].content = prompt;
    n++;
    cw_chat_request_init(&s->req, s->msgs, n);
    s->req.model = o->model;
    s->req.stream = true;
    s->req.include_usage = true;
    s->req.max_tokens = (int32_t)o->max_tokens;
    s->req.temperature = (float)o->temperature;
    s->req.on_delta = on_delta;
    s->req.on_delta_user = a;
    s->answer = a;
    s->prompt = i;
    rc = cw_chat_start(&s->client, &s->req, &s->res);
    if (rc != CW_OK) {
        a->rc = rc;
        a->line = json_line(i, rc, &s->res, a, s->res.detail);
        s->prompt = SIZE_MAX;
        return false;
    }
    /* nothing to wait for yet: the first step comes at once */
    s->wait.fd = -1;
    s->wait.events = 0;
    s->wait.timeout_ms = 0;
    s->wait_from = cw_posix_now_ms(NULL);
    return true;
}

/* What the ports know of a failure that the result does not say. */
static const char *port_detail(const slot_t *s, int rc)
{
    if (s->res.detail[0] != '\0') {
        return s->res.detail;
    }
    if (rc == CW_ERR_PROXY && s->proxy_on) {
        return cw_proxy_error(&s->proxy);
    }
    if (s->tls_on && (rc == CW_ERR_TLS || rc == CW_ERR_CERT ||
                      (cw_tls_error(&s->tls)[0] != '\0' &&
                       rc != CW_ERR_DNS && rc != CW_ERR_CONNECT))) {
        return cw_tls_error(&s->tls);
    }
    if (rc == CW_ERR_DNS && s->sock.gai_error != 0) {
        return gai_strerror(s->sock.gai_error);
    }
    if ((rc == CW_ERR_CONNECT || rc == CW_ERR_IO || rc == CW_ERR_CLOSED) &&
        s->sock.last_errno != 0) {
        return strerror(s->sock.last_errno);
    }
    return "";
}

/* Advances s once; true while its chat goes on. */
static bool slot_step(slot_t *s)
{
    int rc = cw_chat_step(&s->client, &s->wait);

    if (rc == CW_ERR_WOULD_BLOCK) {
        s->wait_from = cw_posix_now_ms(NULL);
        return true;
    }
    s->answer->rc = rc;
    s->answer->line = json_line(s->prompt, rc, &s->res, s->answer,
                                port_detail(s, rc));
    s->prompt = SIZE_MAX;
    return false;
}

int cli_batch(const cli_batch_opts_t *o)
{
    char *text = NULL;
    char **prompts = NULL;
    size_t n = 0;
    size_t next = 0;    /* the next prompt to start */
    size_t printed = 0; /* lines written so far */
    size_t busy = 0;
    size_t failed = 0;
    size_t nslots;
    size_t i;
    slot_t *slots;
    answer_t *answers;
    struct pollfd *fds;
    int status = 0;

    if (read_prompts(o->file, &text, &prompts, &n) != 0) {
        return 1;
    }
    nslots = o->concurrency < n ? o->concurrency : n;
    slots = (slot_t *)calloc(nslots > 0u ? nslots : 1u, sizeof *slots);
    answers = (answer_t *)calloc(n > 0u ? n : 1u, sizeof *answers);
    fds = (struct pollfd *)calloc(nslots > 0u ? nslots : 1u, sizeof *fds);
    if (slots == NULL || answers == NULL || fds == NULL) {
        fprintf(stderr, "chatwire: out of memory for %zu slots\n", nslots);
        status = 1;
        goto out;
    }
    for (i = 0; i < nslots; i++) {
        int rc = slot_init(&slots[i], o);
        if (rc != CW_OK) {
            status = rc == CW_ERR_INVALID_ARG ? 1 : 3;
            goto out;
        }
    }
    while (printed < n) {
        int timeout = -1;
        size_t k = 0;
        uint32_t now;
        /* free slots take the next prompts */
        for (i = 0; i < nslots && next < n; i++) {
            if (slots[i].prompt == SIZE_MAX) {
                if (slot_start(&slots[i], o, next, prompts[next],
                               &answers[next])) {
                    busy++;
                }
                next++;
            }
        }
        /* the lines that can be written, in order */
        while (printed < n && answers[printed].line != NULL) {
            fputs(answers[printed].line, stdout);
            fflush(stdout);
            failed += answers[printed].rc != CW_OK;
            free(answers[printed].line);
            free(answers[printed].text);
            answers[printed].line = NULL;
            answers[printed].text = NULL;
            printed++;
        }
        if (busy == 0u) {
            if (printed < n && next >= n) {
                fprintf(stderr, "chatwire: a line could not be written "
                        "(out of memory)\n");
                status = 1;
                break;
            }
            continue;
        }
        /* one poll for every chat that waits on its socket; the earliest
         * time any of them waits for bounds it */
        now = cw_posix_now_ms(NULL);
        for (i = 0; i < nslots; i++) {
            slot_t *s = &slots[i];
            uint32_t spent = now - s->wait_from;
            uint32_t left;
            if (s->prompt == SIZE_MAX) {
                continue;
            }
            left = spent >= s->wait.timeout_ms ? 0u
                                               : s->wait.timeout_ms - spent;
            if (timeout < 0 || left < (uint32_t)timeout) {
                timeout = left > 0x7fffffffu ? 0x7fffffff : (int)left;
            }
            if (s->wait.fd >= 0 && s->wait.events != 0u) {
                fds[k].fd = s->wait.fd;
                fds[k].events = (short)(((s->wait.events & CW_WAIT_READ)
                                             ? POLLIN : 0) |
                                        ((s->wait.events & CW_WAIT_WRITE)
                                             ? POLLOUT : 0));
                fds[k].revents = 0;
                k++;
            }
        }
        if (poll(fds, (nfds_t)k, timeout) < 0 && errno != EINTR) {
            fprintf(stderr, "chatwire: poll: %s\n", strerror(errno));
            status = 2;
            break;
        }
        /* every chat goes as far as it can (one that still waits says so
         * again, at no cost) */
        for (i = 0; i < nslots; i++) {
            if (slots[i].prompt != SIZE_MAX && !slot_step(&slots[i])) {
                busy--;
            }
        }
    }
    if (status == 0 && failed > 0u) {
        status = 8; /* some prompts failed: their lines say why */
    }
out:
    for (i = 0; slots != NULL && i < nslots; i++) {
        cw_client_close(&slots[i].client);
        if (slots[i].tls_on) {
            cw_tls_free(&slots[i].tls);
        }
    }
    for (i = 0; answers != NULL && i < n; i++) {
        free(answers[i].line);
        free(answers[i].text);
    }
    free(fds);
    free(answers);
    free(slots);
    free(prompts);
    free(text);
    return status;
}
