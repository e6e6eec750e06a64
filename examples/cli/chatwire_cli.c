/*
 * chatwire - ask an OpenAI-compatible Chat Completions API from the shell.
 *
 *   COMETAPI_KEY=... chatwire "Explain snapshot model versions."
 *
 * Streams the answer to stdout as it arrives. See --help and the README for
 * the options and the exit codes.
 */
#define _POSIX_C_SOURCE 200809L
#include "chatwire.h"
#include "chatwire_proxy.h"
#include "cw_posix.h"
#include "cw_tls.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    EXIT_USAGE = 1,   /* bad option, no key, unreadable file */
    EXIT_NETWORK = 2, /* DNS, connect, timeout, connection closed, I/O */
    EXIT_TLS = 3,     /* TLS handshake or certificate */
    EXIT_API = 4,     /* the service answered with an error status */
    EXIT_PROTOCOL = 5,/* malformed, too large or incomplete response */
    EXIT_REFUSED = 6  /* the model answered with no content (a refusal) */
};

static cw_posix_t sock;
static cw_tls_t tls;
static cw_proxy_t proxy;
static cw_client_t client;
static uint8_t io_buf[4096];
static uint8_t work_buf[256 * 1024];
static char stdin_prompt[1024 * 1024];

typedef struct options {
    const char *base_url;
    const char *model;
    const char *system;
    const char *ca_file;
    const char *proxy;
    const char *prompt;
    long max_tokens;
    double temperature;
    long timeout_ms;
    long connect_timeout_ms;
    long idle_timeout_ms;
    long max_retries;
    int tls_min;
    int tls_max;
    bool stream;
    bool verbose;
    bool api_key_header;
} options_t;

static void usage(FILE *out)
{
    fprintf(out,
"usage: chatwire [options] PROMPT      (PROMPT '-' reads standard input)\n"
"  --base-url URL     API base URL (default %s)\n"
"  --model M          model (default %s)\n"
"  --system TEXT      a system message before the prompt\n"
"  --no-stream        wait for the whole answer instead of streaming it\n"
"  --ca FILE          trust anchors, PEM (default %s)\n"
"  --api-key-header   send the key as 'api-key: KEY' (Azure OpenAI) instead\n"
"                     of 'Authorization: Bearer KEY'\n"
"  --proxy URL        HTTP CONNECT proxy, http://[user:pass@]host[:port]\n"
"                     (default: HTTPS_PROXY / https_proxy, or HTTP_PROXY /\n"
"                     http_proxy for http URLs; NO_PROXY lists exceptions;\n"
"                     --proxy '' for none)\n"
"  --max-tokens N     cap on the answer's tokens\n"
"  --temperature X    sampling temperature, 0..2\n"
"  --timeout-ms N     whole call, retries included (default 600000)\n"
"  --connect-timeout-ms N  TCP + TLS handshake (default 10000)\n"
"  --idle-timeout-ms N     longest silence from the server (default 60000)\n"
"  --max-retries N    retries after 408/409/429/5xx or a failed connection\n"
"                     (default 2; 0: none)\n"
"  --tls-min 1.2|1.3  lowest TLS version to accept (default 1.2)\n"
"  --tls-max 1.2|1.3  highest TLS version to offer\n"
"  -v                 status, request id, timings and usage on stderr\n"
"  --version          versions of chatwire, mbedTLS and the TLS versions built\n"
"The key comes from COMETAPI_KEY, or else OPENAI_API_KEY.\n"
"Exit codes: 0 ok, 1 usage, 2 network, 3 TLS, 4 API error, 5 bad response,\n"
"6 no content (refusal).\n",
            CW_DEFAULT_BASE_URL, CW_DEFAULT_MODEL, CW_TLS_DEFAULT_CA_FILE);
}

static int fail(int code, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "chatwire: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return code;
}

static int tls_version_arg(const char *s)
{
    if (strcmp(s, "1.2") == 0) {
        return CW_TLS_1_2;
    }
    if (strcmp(s, "1.3") == 0) {
        return CW_TLS_1_3;
    }
    return -1;
}

static int parse_args(int argc, char **argv, options_t *o)
{
    static const struct option longs[] = {
        { "base-url", required_argument, NULL, 'b' },
        { "model", required_argument, NULL, 'm' },
        { "system", required_argument, NULL, 's' },
        { "no-stream", no_argument, NULL, 'n' },
        { "ca", required_argument, NULL, 'c' },
        { "proxy", required_argument, NULL, 'p' },
        { "api-key-header", no_argument, NULL, 'A' },
        { "max-tokens", required_argument, NULL, 'x' },
        { "temperature", required_argument, NULL, 't' },
        { "timeout-ms", required_argument, NULL, 'T' },
        { "connect-timeout-ms", required_argument, NULL, 'C' },
        { "idle-timeout-ms", required_argument, NULL, 'I' },
        { "max-retries", required_argument, NULL, 'R' },
        { "tls-min", required_argument, NULL, '1' },
        { "tls-max", required_argument, NULL, '2' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int ch;
    char *end;

    memset(o, 0, sizeof *o);
    o->base_url = CW_DEFAULT_BASE_URL;
    o->model = CW_DEFAULT_MODEL;
    o->temperature = -1.0;
    o->timeout_ms = 600000;
    o->max_retries = 2;
    o->stream = true;
    while ((ch = getopt_long(argc, argv, "vh", longs, NULL)) != -1) {
        switch (ch) {
        case 'b': o->base_url = optarg; break;
        case 'm': o->model = optarg; break;
        case 's': o->system = optarg; break;
        case 'n': o->stream = false; break;
        case 'c': o->ca_file = optarg; break;
        case 'p': o->proxy = optarg; break;
        case 'A': o->api_key_header = true; break;
        case 'v': o->verbose = true; break;
        case 'x':
            o->max_tokens = strtol(optarg, &end, 10);
            if (*end != '\0' || o->max_tokens <= 0 || o->max_tokens > 1000000) {
                return fail(EXIT_USAGE, "bad --max-tokens: %s%s", optarg, "");
            }
            break;
        case 't':
            o->temperature = strtod(optarg, &end);
            if (*end != '\0' || !(o->temperature >= 0.0 &&
                                  o->temperature <= 2.0)) {
                return fail(EXIT_USAGE, "bad --temperature: %s%s (0..2)",
                            optarg, "");
            }
            break;
        case 'T':
        case 'C':
        case 'I': {
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v <= 0 || v > 86400000L) {
                return fail(EXIT_USAGE, "bad timeout: %s%s (milliseconds)",
                            optarg, "");
            }
            if (ch == 'T') {
                o->timeout_ms = v;
            } else if (ch == 'C') {
                o->connect_timeout_ms = v;
            } else {
                o->idle_timeout_ms = v;
            }
            break;
        }
        case 'R':
            o->max_retries = strtol(optarg, &end, 10);
            if (*end != '\0' || o->max_retries < 0 || o->max_retries > 10) {
                return fail(EXIT_USAGE, "bad --max-retries: %s%s (0..10)",
                            optarg, "");
            }
            break;
        case '1':
        case '2': {
            int v = tls_version_arg(optarg);
            if (v < 0) {
                return fail(EXIT_USAGE, "bad TLS version: %s%s (1.2 or 1.3)",
                            optarg, "");
            }
            if (ch == '1') {
                o->tls_min = v;
            } else {
                o->tls_max = v;
            }
            break;
        }
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("chatwire %s (%s)\n", CW_VERSION_STRING, cw_tls_build_info());
            exit(0);
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    o->prompt = argv[optind];
    if (strcmp(o->prompt, "-") == 0) {
        size_t n = fread(stdin_prompt, 1, sizeof stdin_prompt - 1u, stdin);
        if (n == sizeof stdin_prompt - 1u && !feof(stdin)) {
            return fail(EXIT_USAGE, "prompt on standard input is over 1 MiB%s%s",
                        "", "");
        }
        stdin_prompt[n] = '\0';
        o->prompt = stdin_prompt;
    }
    return 0;
}

static void on_retry(void *user, const cw_retry_info_t *info)
{
    const options_t *o = (const options_t *)user;
    if (!o->verbose) {
        return;
    }
    if (info->http_status != 0) {
        fprintf(stderr, "chatwire: HTTP %d; attempt %u in %u ms%s\n",
                info->http_status, (unsigned)info->attempt,
                (unsigned)info->delay_ms,
                info->from_server ? " (as the server asked)" : "");
    } else {
        fprintf(stderr, "chatwire: %s; attempt %u in %u ms\n",
                cw_strerror(info->status), (unsigned)info->attempt,
                (unsigned)info->delay_ms);
    }
}

static int on_delta(void *user, const char *text, size_t len)
{
    (void)user;
    if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        return 1; /* stdout is gone (a closed pipe): stop */
    }
    return 0;
}

/* True when host is listed in NO_PROXY / no_proxy ("*", exact names, or
 * domain suffixes like ".example.com" or "example.com"). */
static bool no_proxy_for(const char *host, size_t host_len)
{
    const char *list = getenv("NO_PROXY");
    if (list == NULL || list[0] == '\0') {
        list = getenv("no_proxy");
    }
    while (list != NULL && *list != '\0') {
        size_t n = strcspn(list, ", ");
        const char *e = list;
        if (n > 0u && e[0] == '.') {
            e++;
            n--;
        }
        if ((n == 1u && e[0] == '*') ||
            (n > 0u && host_len >= n &&
             strncasecmp(host + host_len - n, e, n) == 0 &&
             (host_len == n || host[host_len - n - 1u] == '.'))) {
            return true;
        }
        list += strcspn(list, ", ");
        list += strspn(list, ", ");
    }
    return false;
}

/* The proxy to use: --proxy, else the environment as curl reads it. */
static const char *pick_proxy(const options_t *o, const cw_url_t *url)
{
    const char *p = o->proxy;
    if (p == NULL) {
        p = url->tls ? getenv("HTTPS_PROXY") : getenv("http_proxy");
        if (p == NULL || p[0] == '\0') {
            p = url->tls ? getenv("https_proxy") : getenv("HTTP_PROXY");
        }
        if (p != NULL && p[0] != '\0' && no_proxy_for(url->host,
                                                       url->host_len)) {
            p = NULL;
        }
    }
    return p != NULL && p[0] != '\0' ? p : NULL;
}

/* One line on stderr saying what went wrong, and the exit code. */
static int report(int rc, const cw_result_t *res, const options_t *o,
                  const cw_url_t *url)
{
    char line[640];
    const char *rid = res->http.request_id[0] != '\0' ? res->http.request_id
                                                      : NULL;
    char tail[64];
    int code;

    snprintf(tail, sizeof tail, "%s", res->partial ? " (answer incomplete)"
                                                   : "");
    if (res->attempts > 1u) {
        size_t n = strlen(tail);
        snprintf(tail + n, sizeof tail - n, " (after %u attempts)",
                 (unsigned)res->attempts);
    }

    switch (rc) {
    case CW_ERR_API: {
        const char *what = res->error.code[0] != '\0' ? res->error.code
                                                      : res->error.type;
        if (res->http.status >= 200 && res->http.status < 300) {
            snprintf(line, sizeof line, "stream error %s: %s", what,
                     res->error.message);
        } else {
            snprintf(line, sizeof line, "HTTP %d %s%s%s", res->http.status,
                     what, what[0] != '\0' ? ": " : "", res->error.message);
        }
        code = EXIT_API;
        break;
    }
    case CW_ERR_HTTP:
        snprintf(line, sizeof line, "HTTP %d from %.*s (no error details)",
                 res->http.status, (int)url->host_len, url->host);
        code = EXIT_API;
        break;
    case CW_ERR_TLS:
    case CW_ERR_CERT:
        snprintf(line, sizeof line, "%s", cw_tls_error(&tls)[0] != '\0'
                                              ? cw_tls_error(&tls)
                                              : cw_strerror(rc));
        code = EXIT_TLS;
        break;
    case CW_ERR_PROXY:
        snprintf(line, sizeof line, "%s", cw_proxy_error(&proxy));
        code = EXIT_NETWORK;
        break;
    case CW_ERR_DNS:
        snprintf(line, sizeof line, "cannot resolve %.*s: %s",
                 (int)url->host_len, url->host, gai_strerror(sock.gai_error));
        code = EXIT_NETWORK;
        break;
    case CW_ERR_CONNECT:
        snprintf(line, sizeof line, "cannot connect to %.*s port %u: %s",
                 (int)url->host_len, url->host, (unsigned)url->port,
                 strerror(sock.last_errno));
        code = EXIT_NETWORK;
        break;
    case CW_ERR_TIMEOUT:
        snprintf(line, sizeof line, "timed out (%ld ms in all, %ld ms idle, "
                 "%ld ms to connect)", o->timeout_ms,
                 o->idle_timeout_ms ? o->idle_timeout_ms
                                    : (long)CW_DEFAULT_IDLE_TIMEOUT_MS,
                 o->connect_timeout_ms ? o->connect_timeout_ms
                                       : (long)CW_DEFAULT_CONNECT_TIMEOUT_MS);
        code = EXIT_NETWORK;
        break;
    case CW_ERR_CLOSED:
    case CW_ERR_IO:
        snprintf(line, sizeof line, "%s", cw_strerror(rc));
        code = EXIT_NETWORK;
        break;
    case CW_ERR_NO_CONTENT:
        snprintf(line, sizeof line, "the model gave no content%s%s",
                 res->refusal ? "; it refused: " : "",
                 !res->refusal ? ""
                 : res->content != NULL ? res->content : res->error.message);
        code = EXIT_REFUSED;
        break;
    case CW_ERR_BUFFER_TOO_SMALL:
        snprintf(line, sizeof line, "the answer is larger than %zu bytes; "
                 "use streaming", sizeof work_buf);
        code = EXIT_PROTOCOL;
        break;
    case CW_ERR_MALFORMED:
        snprintf(line, sizeof line, "malformed response (at byte %llu)",
                 (unsigned long long)res->error_offset);
        code = EXIT_PROTOCOL;
        break;
    case CW_ERR_INVALID_UTF8:
        snprintf(line, sizeof line, "the prompt is not valid UTF-8");
        code = EXIT_USAGE;
        break;
    default:
        snprintf(line, sizeof line, "%s", cw_strerror(rc));
        code = EXIT_PROTOCOL;
        break;
    }
    if (rid != NULL) {
        fprintf(stderr, "chatwire: %s%s (request id %s)\n", line, tail, rid);
    } else {
        fprintf(stderr, "chatwire: %s%s\n", line, tail);
    }
    return code;
}

int main(int argc, char **argv)
{
    options_t o;
    cw_client_config_t cfg;
    cw_tls_config_t tcfg;
    cw_chat_request_t req;
    cw_message_t msgs[2];
    cw_result_t res;
    const char *key = getenv("COMETAPI_KEY");
    uint32_t t0;
    int rc = parse_args(argc, argv, &o);

    if (rc != 0) {
        return rc;
    }
    if (key == NULL || key[0] == '\0') {
        key = getenv("OPENAI_API_KEY");
    }
    if (key == NULL || key[0] == '\0') {
        return fail(EXIT_USAGE, "no API key: set COMETAPI_KEY (or "
                    "OPENAI_API_KEY), e.g. export COMETAPI_KEY=sk-...%s%s",
                    "", "");
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.base_url = o.base_url;
    cfg.api_key = key;
    cfg.auth = o.api_key_header ? CW_AUTH_API_KEY : CW_AUTH_BEARER;
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.timeout_ms = (uint32_t)o.timeout_ms;
    cfg.connect_timeout_ms = (uint32_t)o.connect_timeout_ms;
    cfg.idle_timeout_ms = (uint32_t)o.idle_timeout_ms;
    cfg.max_retries = o.max_retries == 0 ? CW_NO_RETRIES : (int)o.max_retries;
    cfg.platform = cw_posix_platform();
    cfg.on_retry = on_retry;
    cfg.on_retry_user = &o;
    cw_posix_init(&sock);
    cfg.transport = cw_posix_transport(&sock);
    if (cw_url_parse(o.base_url, &client.url) != CW_OK) {
        return fail(EXIT_USAGE, "bad --base-url: %s%s", o.base_url, "");
    }
    if (pick_proxy(&o, &client.url) != NULL) {
        if (cw_proxy_init(&proxy, cfg.transport,
                          pick_proxy(&o, &client.url)) != CW_OK) {
            return fail(EXIT_USAGE, "bad proxy URL (want http://[user:"
                        "password@]host[:port])%s%s", "", "");
        }
        cfg.transport = cw_proxy_transport(&proxy);
    }
    if (client.url.tls) {
        memset(&tcfg, 0, sizeof tcfg);
        tcfg.ca_file = o.ca_file;
        tcfg.min_version = (uint8_t)o.tls_min;
        tcfg.max_version = (uint8_t)o.tls_max;
        rc = cw_tls_init(&tls, cfg.transport, &tcfg);
        if (rc != CW_OK) {
            fprintf(stderr, "chatwire: %s\n", cw_tls_error(&tls));
            return rc == CW_ERR_INVALID_ARG ? EXIT_USAGE : EXIT_TLS;
        }
        cfg.transport = cw_tls_transport(&tls);
    }
    if (cw_client_init(&client, &cfg) != CW_OK) {
        return fail(EXIT_USAGE, "cannot set up the client for %s%s",
                    o.base_url, "");
    }
    rc = 0;
    if (o.system != NULL) {
        msgs[rc].role = "system";
        msgs[rc++].content = o.system;
    }
    msgs[rc].role = "user";
    msgs[rc++].content = o.prompt;
    cw_chat_request_init(&req, msgs, (size_t)rc);
    req.model = o.model;
    req.stream = o.stream;
    req.include_usage = o.stream;
    req.max_tokens = (int32_t)o.max_tokens;
    req.temperature = (float)o.temperature;
    req.on_delta = on_delta;

    t0 = cw_posix_now_ms(NULL);
    rc = cw_chat(&client, &req, &res);
    if (rc == CW_OK && !o.stream) {
        fwrite(res.content, 1, res.content_len, stdout);
    }
    if (rc == CW_OK || (o.stream && res.content_len > 0u)) {
        fputc('\n', stdout);
        fflush(stdout);
    }
    if (o.verbose && res.http.status == 0) {
        fprintf(stderr, "chatwire: no HTTP response after %u ms\n",
                (unsigned)(cw_posix_now_ms(NULL) - t0));
    } else if (o.verbose) {
        const char *tv = client.url.tls ? cw_tls_version(&tls) : "";
        fprintf(stderr, "chatwire: HTTP %d, request id %s, model %s, "
                "finish %s, tokens %lld prompt + %lld completion = %lld, "
                "%u attempt%s, %s connection%s%s%s%s, %u ms\n",
                res.http.status,
                res.http.request_id[0] ? res.http.request_id : "-",
                res.model[0] ? res.model : "-",
                res.finish_reason[0] ? res.finish_reason : "-",
                (long long)res.prompt_tokens, (long long)res.completion_tokens,
                (long long)res.total_tokens, (unsigned)res.attempts,
                res.attempts == 1u ? "" : "s",
                res.reused_connection ? "reused" : "new",
                res.stale_reconnect ? " (a stale one replaced)" : "",
                tv[0] ? ", " : "", tv,
                !client.url.tls ? ""
                : cw_tls_resumed(&tls) ? " resumed" : " full handshake",
                (unsigned)(cw_posix_now_ms(NULL) - t0));
        if (res.retry_wait_ms > 0u) {
            fprintf(stderr, "chatwire: waited %u ms between attempts\n",
                    (unsigned)res.retry_wait_ms);
        }
    }
    if (rc != CW_OK) {
        rc = report(rc, &res, &o, &client.url);
    }
    cw_client_close(&client);
    if (client.url.tls) {
        cw_tls_free(&tls);
    }
    return rc;
}
