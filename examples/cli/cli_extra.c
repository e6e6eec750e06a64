/*
 * cli_extra.c - tool definitions, tool commands, image files and JSON
 * output for the chatwire command (see cli_extra.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli_extra.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* jsmn, compiled here for the command's own use (the library has its own
 * copy, renamed) */
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#define TOOLS_MAX_TOKENS 4096

long cli_read_file(const char *path, char *buf, size_t cap, char *err,
                   size_t errcap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    n = fread(buf, 1, cap - 1u, f);
    if (ferror(f) || (n == cap - 1u && fgetc(f) != EOF)) {
        snprintf(err, errcap, "%s: %s", path,
                 ferror(f) ? strerror(errno) : "larger than this command "
                                               "reads");
        fclose(f);
        return -1;
    }
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

static int skip(const jsmntok_t *t, int i, int n)
{
    int left = 1;
    while (left > 0 && i < n) {
        left += t[i].size - 1;
        i++;
    }
    return i;
}

static int member(const char *js, const jsmntok_t *t, int n, int obj,
                  const char *key)
{
    int i;
    int k;

    if (obj < 0 || t[obj].type != JSMN_OBJECT) {
        return -1;
    }
    for (i = obj + 1, k = 0; k < t[obj].size && i + 1 < n; k++) {
        if (t[i].type == JSMN_STRING &&
            (size_t)(t[i].end - t[i].start) == strlen(key) &&
            memcmp(js + t[i].start, key, strlen(key)) == 0) {
            return i + 1;
        }
        i = skip(t, i + 1, n);
    }
    return -1;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The string token i unescaped into store (NUL-terminated); NULL when it
 * is no string, or store is full. */
static const char *unescape(const char *js, const jsmntok_t *t, int i,
                            char **store, size_t *left)
{
    const char *s = js + t[i].start;
    const char *e = js + t[i].end;
    char *out = *store;
    size_t n = 0;

    if (t[i].type != JSMN_STRING) {
        return NULL;
    }
    while (s < e) {
        unsigned long cp;
        if (n + 5u > *left) {
            return NULL;
        }
        if (*s != '\\') {
            out[n++] = *s++;
            continue;
        }
        s++;
        switch (*s) {
        case 'n': out[n++] = '\n'; s++; continue;
        case 't': out[n++] = '\t'; s++; continue;
        case 'r': out[n++] = '\r'; s++; continue;
        case 'b': out[n++] = '\b'; s++; continue;
        case 'f': out[n++] = '\f'; s++; continue;
        case 'u': break;
        default: out[n++] = *s++; continue;
        }
        cp = (unsigned long)(hexval(s[1]) << 12 | hexval(s[2]) << 8 |
                             hexval(s[3]) << 4 | hexval(s[4]));
        s += 5;
        if (cp >= 0xd800u && cp < 0xdc00u && s + 6 <= e && s[0] == '\\' &&
            s[1] == 'u') {
            unsigned long lo = (unsigned long)(hexval(s[2]) << 12 |
                                               hexval(s[3]) << 8 |
                                               hexval(s[4]) << 4 |
                                               hexval(s[5]));
            if (lo >= 0xdc00u && lo < 0xe000u) {
                cp = 0x10000u + ((cp - 0xd800u) << 10) + (lo - 0xdc00u);
                s += 6;
            }
        }
        if (cp >= 0xd800u && cp < 0xe000u) {
            cp = 0xfffdu;
        }
        if (cp < 0x80u) {
            out[n++] = (char)cp;
        } else if (cp < 0x800u) {
            out[n++] = (char)(0xc0u | (cp >> 6));
            out[n++] = (char)(0x80u | (cp & 0x3fu));
        } else if (cp < 0x10000u) {
            out[n++] = (char)(0xe0u | (cp >> 12));
            out[n++] = (char)(0x80u | ((cp >> 6) & 0x3fu));
            out[n++] = (char)(0x80u | (cp & 0x3fu));
        } else {
            out[n++] = (char)(0xf0u | (cp >> 18));
            out[n++] = (char)(0x80u | ((cp >> 12) & 0x3fu));
            out[n++] = (char)(0x80u | ((cp >> 6) & 0x3fu));
            out[n++] = (char)(0x80u | (cp & 0x3fu));
        }
    }
    out[n] = '\0';
    *store += n + 1u;
    *left -= n + 1u;
    return out;
}

/* The raw text of token i (any JSON value), copied into store. */
static const char *raw(const char *js, const jsmntok_t *t, int i, char **store,
                       size_t *left)
{
    size_t start = (size_t)t[i].start - (t[i].type == JSMN_STRING ? 1u : 0u);
    size_t end = (size_t)t[i].end + (t[i].type == JSMN_STRING ? 1u : 0u);
    size_t n = end - start;
    char *out = *store;

    if (n + 1u > *left) {
        return NULL;
    }
    memcpy(out, js + start, n);
    out[n] = '\0';
    *store += n + 1u;
    *left -= n + 1u;
    return out;
}

int cli_load_tools(const char *path, cw_tool_t *tools, size_t max,
                   size_t *count, char *store, size_t store_size, char *err,
                   size_t errcap)
{
    static jsmntok_t t[TOOLS_MAX_TOKENS];
    static char js[256 * 1024];
    jsmn_parser p;
    long len = cli_read_file(path, js, sizeof js, err, errcap);
    int n;
    int i;
    int k;
    size_t left = store_size;

    *count = 0;
    if (len < 0) {
        return -1;
    }
    jsmn_init(&p);
    n = jsmn_parse(&p, js, (size_t)len, t, TOOLS_MAX_TOKENS);
    if (n < 1 || t[0].type != JSMN_ARRAY) {
        snprintf(err, errcap, "%s: not a JSON array of tool definitions "
                 "(%s)", path, n == JSMN_ERROR_NOMEM ? "too large"
                               : n < 0 ? "malformed JSON" : "not an array");
        return -1;
    }
    for (i = 1, k = 0; k < t[0].size && i < n; k++) {
        int fn = member(js, t, n, i, "function");
        int name = member(js, t, n, fn, "name");
        int desc = member(js, t, n, fn, "description");
        int params = member(js, t, n, fn, "parameters");
        int strict = member(js, t, n, fn, "strict");
        int type = member(js, t, n, i, "type");
        cw_tool_t *tool;

        if ((size_t)k >= max) {
            snprintf(err, errcap, "%s: more than %zu tools", path, max);
            return -1;
        }
        if (type < 0 || t[type].type != JSMN_STRING ||
            strncmp(js + t[type].start, "function", 8) != 0 || name < 0 ||
            t[name].type != JSMN_STRING) {
            snprintf(err, errcap, "%s: tool %d (at byte %d) is not {\"type\": "
                     "\"function\", \"function\": {\"name\": ...}}", path, k,
                     t[i].start);
            return -1;
        }
        tool = &tools[k];
        memset(tool, 0, sizeof *tool);
        tool->name = unescape(js, t, name, &store, &left);
        if (desc >= 0) {
            tool->description = unescape(js, t, desc, &store, &left);
        }
        if (params >= 0) {
            tool->parameters = raw(js, t, params, &store, &left);
        }
        tool->strict = strict >= 0 && js[t[strict].start] == 't';
        if (tool->name == NULL || (desc >= 0 && tool->description == NULL) ||
            (params >= 0 && tool->parameters == NULL)) {
            snprintf(err, errcap, "%s: tool %d: a string that is not one, or "
                     "the definitions are too large", path, k);
            return -1;
        }
        i = skip(t, i, n);
    }
    *count = (size_t)k;
    return 0;
}

/* Writes all of data to fd, and reads what rfd gives into out, together
 * (a tool may answer before it has read all its input). */
static int pump(int wfd, const char *data, size_t len, int rfd, char *out,
                size_t cap, size_t *got)
{
    struct pollfd p[2];
    size_t sent = 0;

    *got = 0;
    if (len == 0u) {
        close(wfd);
        wfd = -1;
    }
    for (;;) {
        int np = 0;
        int r;
        p[0].fd = rfd;
        p[0].events = POLLIN;
        np = 1;
        if (wfd >= 0) {
            p[1].fd = wfd;
            p[1].events = POLLOUT;
            np = 2;
        }
        r = poll(p, (nfds_t)np, -1);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (wfd >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(wfd, data + sent, len - sent);
            if (w < 0 && errno != EINTR && errno != EAGAIN) {
                close(wfd); /* the tool stopped reading: fine */
                wfd = -1;
            } else if (w > 0) {
                sent += (size_t)w;
                if (sent == len) {
                    close(wfd);
                    wfd = -1;
                }
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t rd;
            if (*got + 1u >= cap) {
                return -2; /* more than the room for it */
            }
            rd = read(rfd, out + *got, cap - 1u - *got);
            if (rd == 0) {
                break;
            }
            if (rd < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return -1;
            }
            *got += (size_t)rd;
        }
    }
    if (wfd >= 0) {
        close(wfd);
    }
    out[*got] = '\0';
    return 0;
}

int cli_run_tool(const char *cmd, const cw_tool_call_t *call, char *out,
                 size_t cap, size_t *len, char *err, size_t errcap)
{
    int in[2];
    int res[2];
    pid_t pid;
    int status = 0;
    int rc;
    void (*old)(int);

    if (pipe(in) != 0) {
        snprintf(err, errcap, "cannot run the tool command: %s",
                 strerror(errno));
        return -1;
    }
    if (pipe(res) != 0) {
        close(in[0]);
        close(in[1]);
        snprintf(err, errcap, "cannot run the tool command: %s",
                 strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        snprintf(err, errcap, "cannot run the tool command: %s",
                 strerror(errno));
        close(in[0]);
        close(in[1]);
        close(res[0]);
        close(res[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(res[1], 1);
        close(in[0]);
        close(in[1]);
        close(res[0]);
        close(res[1]);
        setenv("CHATWIRE_TOOL_NAME", call->name, 1);
        setenv("CHATWIRE_TOOL_CALL_ID", call->id, 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(res[1]);
    old = signal(SIGPIPE, SIG_IGN); /* a tool that does not read its input */
    rc = pump(in[1], call->arguments != NULL ? call->arguments : "",
              call->arguments_len, res[0], out, cap, len);
    signal(SIGPIPE, old);
    close(res[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (rc == -2) {
        snprintf(err, errcap, "the tool command's output for %s is over "
                 "%zu bytes", call->name, cap - 1u);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, errcap, "reading the tool command's output: %s",
                 strerror(errno));
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        int n = snprintf(out + *len, cap - *len, "%s[the tool exited with "
                         "status %d]", *len > 0u && out[*len - 1u] != '\n'
                                           ? "\n" : "",
                         WIFEXITED(status) ? WEXITSTATUS(status)
                                           : 128 + WTERMSIG(status));
        if (n > 0 && (size_t)n < cap - *len) {
            *len += (size_t)n;
        }
    }
    return 0;
}

int cli_file_open(cli_file_t *f, const char *path, char *err, size_t errcap)
{
    struct stat st;

    f->fd = open(path, O_RDONLY);
    if (f->fd < 0 || fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "cannot read %s: %s", path,
                 f->fd < 0 ? strerror(errno) : "not a regular file");
        if (f->fd >= 0) {
            close(f->fd);
        }
        return -1;
    }
    f->size = (uint64_t)st.st_size;
    return 0;
}

int32_t cli_file_read(void *ctx, uint8_t *buf, size_t len)
{
    cli_file_t *f = (cli_file_t *)ctx;
    ssize_t n;

    do {
        n = read(f->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? CW_ERR_IO : (int32_t)n;
}

int cli_file_rewind(void *ctx)
{
    cli_file_t *f = (cli_file_t *)ctx;
    return lseek(f->fd, 0, SEEK_SET) == 0 ? CW_OK : CW_ERR_IO;
}

const char *cli_image_mime(const char *path)
{
    static const char *const map[][2] = {
        { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
        { ".png", "image/png" },  { ".gif", "image/gif" },
        { ".webp", "image/webp" },
    };
    const char *dot = strrchr(path, '.');
    size_t i;

    for (i = 0; dot != NULL && i < sizeof map / sizeof map[0]; i++) {
        size_t k;
        for (k = 0; dot[k] != '\0' && map[i][0][k] != '\0' &&
                    (dot[k] | 0x20) == map[i][0][k]; k++) {
        }
        if (dot[k] == '\0' && map[i][0][k] == '\0') {
            return map[i][1];
        }
    }
    return NULL;
}

/* The length of the valid UTF-8 sequence at s (of at most n bytes), 0 when
 * it is ill-formed. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    size_t i;

    if (s[0] < 0x80u) {
        return 1;
    }
    need = s[0] >= 0xc2u && s[0] <= 0xdfu   ? 2u
           : s[0] >= 0xe0u && s[0] <= 0xefu ? 3u
           : s[0] >= 0xf0u && s[0] <= 0xf4u ? 4u : 0u;
    if (need == 0u || n < need) {
        return 0;
    }
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xc0u) != 0x80u) {
            return 0;
        }
    }
    if ((s[0] == 0xe0u && s[1] < 0xa0u) || (s[0] == 0xedu && s[1] >= 0xa0u) ||
        (s[0] == 0xf0u && s[1] < 0x90u) || (s[0] == 0xf4u && s[1] >= 0x90u)) {
        return 0;
    }
    return need;
}

void cli_json_string(FILE *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
            i++;
        } else if (c < 0x20u || c == 0x7fu) {
            fprintf(out, "\\u%04x", c);
            i++;
        } else if ((n = utf8_len(p + i, len - i)) > 0u) {
            fwrite(p + i, 1, n, out);
            i += n;
        } else {
            fputs("\\ufffd", out);
            i++;
        }
    }
    fputc('"', out);
}

/* s, or null when it is empty. */
static void json_opt(FILE *out, const char *s)
{
    cli_json_string(out, s[0] != '\0' ? s : NULL, strlen(s));
}

void cli_json_result(FILE *out, const cw_result_t *res)
{
    fputs("\"finish_reason\":", out);
    json_opt(out, res->finish_reason);
    fputs(",\"usage\":", out);
    if (res->total_tokens >= 0 || res->prompt_tokens >= 0) {
        fprintf(out, "{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,"
                "\"total_tokens\":%lld", (long long)res->prompt_tokens,
                (long long)res->completion_tokens,
                (long long)res->total_tokens);
#if CW_CONFIG_REASONING
        if (res->reasoning_tokens >= 0) {
            fprintf(out, ",\"reasoning_tokens\":%lld",
                    (long long)res->reasoning_tokens);
        }
        if (res->cached_tokens >= 0) {
            fprintf(out, ",\"cached_tokens\":%lld",
                    (long long)res->cached_tokens);
        }
#endif
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputs(",\"id\":", out);
    json_opt(out, res->id);
    fputs(",\"model\":", out);
    json_opt(out, res->model);
    fprintf(out, ",\"http_status\":%d,\"request_id\":", res->http.status);
    json_opt(out, res->http.request_id);
    fputs(",\"error\":", out);
    if (res->error.present) {
        fputs("{\"type\":", out);
        cli_json_string(out, res->error.type, strlen(res->error.type));
        fputs(",\"code\":", out);
        json_opt(out, res->error.code);
        fputs(",\"message\":", out);
        cli_json_string(out, res->error.message, strlen(res->error.message));
        fputs(",\"param\":", out);
        json_opt(out, res->error.param);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
}
