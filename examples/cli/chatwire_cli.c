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
#include "cli_batch.h"
#include "cli_extra.h"
#include "cw_posix.h"
#include "cw_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    EXIT_USAGE = 1,   /* bad option or value, no key, unreadable file */
    EXIT_NETWORK = 2, /* DNS, connect, timeout, connection closed, I/O */
    EXIT_TLS = 3,     /* TLS handshake or certificate */
    EXIT_API = 4,     /* the service answered with an error status */
    EXIT_PROTOCOL = 5,/* malformed, too large or incomplete response */
    EXIT_REFUSED = 6, /* the model answered with no content (a refusal) */
    EXIT_TOOLS = 7    /* the model called tools instead of answering */
};

#define PROMPT_MAX (1024u * 1024u) /* bytes of prompt on standard input */
#define MAX_IMAGES 8
#define MAX_HEADERS 16
#define MAX_TOOLS 16
#define MAX_CALLS 16           /* tool calls in one answer */
#define HISTORY_MSGS 64
#define TOOL_OUTPUT_MAX (64u * 1024u)

static cw_posix_t sock;
static cw_tls_t tls;
static cw_proxy_t proxy;
static cw_client_t client;
static cw_url_t base; /* the base URL, parsed for the CLI's own choices */
static size_t n_tools; /* tools from --tools */
static uint8_t io_buf[4096];
static uint8_t work_buf[256 * 1024];
static char stdin_prompt[PROMPT_MAX + 1u];

typedef struct options {
    const char *base_url;
    const char *model;
    const char *system;
    const char *ca_file;
    const char *proxy;
    const char *tls_session;  /* file keeping the TLS session across runs */
    const char *prompt;
    long max_tokens;
    double temperature;
    long timeout_ms;          /* 0: no total limit */
    long connect_timeout_ms;
    long idle_timeout_ms;
    long max_retries;
    int tls_min;
    int tls_max;
    const char *proxy_used;   /* the proxy in effect, or NULL */
    bool stream;
    bool verbose;
    bool api_key_header;
    const char *tools_file;
    const char *tool_choice;
    const char *tool_exec;
    long max_rounds;
    const char *images[MAX_IMAGES];
    size_t n_images;
    const char *json_schema_file;
    long max_completion_tokens;
    const char *reasoning_effort;
    bool show_reasoning;
    const char *headers[MAX_HEADERS];
    size_t n_headers;
    double top_p;
    const char *stops[4];
    size_t n_stops;
    bool has_seed;
    long long seed;
    bool output_json;
    bool chat;
    const char *batch_file;   /* --batch: one streamed chat per line */
    long concurrency;
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
"  --timeout-ms N     whole call, retries included (default: no limit;\n"
"                     a stream is ended only by --idle-timeout-ms)\n"
"  --connect-timeout-ms N  TCP + TLS handshake (default 10000)\n"
"  --idle-timeout-ms N     longest silence from the server (default 60000)\n"
"  --max-retries N    retries after 408/409/429/5xx or a failed connection\n"
"                     (default 2; 0: none)\n"
"  --tls-min 1.2|1.3  lowest TLS version to accept (default 1.2)\n"
"  --tls-max 1.2|1.3  highest TLS version to offer\n"
"  --tls-session FILE keep the TLS session in FILE (mode 0600; it holds\n"
"                     session keys), so that the next run resumes it\n"
"  --tools FILE       tools the model may call: a JSON array of OpenAI tool\n"
"                     definitions ({\"type\": \"function\", ...})\n"
"  --tool-choice C    none, auto, required, or a tool's name\n"
"  --tool-exec CMD    run each call with CMD (sh -c), CHATWIRE_TOOL_NAME and\n"
"                     CHATWIRE_TOOL_CALL_ID set, the arguments on its\n"
"                     standard input; its output goes back to the model,\n"
"                     until the model answers in text\n"
"  --max-rounds N     most tool rounds with --tool-exec (default 8)\n"
"  --image FILE       an image with the prompt (.jpg .png .gif .webp;\n"
"                     repeatable), streamed from the file\n"
"  --json-schema FILE answer as JSON matching the schema in FILE\n"
"  --max-completion-tokens N  cap for reasoning models\n"
"  --reasoning-effort E       minimal, low, medium or high\n"
"  --show-reasoning   a reasoning model's reasoning on stderr\n"
"  --header 'K: V'    one more request header (repeatable)\n"
"  --top-p X  --stop S (repeatable, up to 4)  --seed N\n"
"  --output json      one JSON object on stdout: content, refusal,\n"
"                     reasoning, tool_calls, finish_reason, usage, id,\n"
"                     model, http_status, request_id, error\n"
"  -i, --chat         a conversation on the terminal, one line per turn\n"
"  --batch FILE       each line of FILE its own streamed chat, one JSON\n"
"                     line per prompt on stdout, in the file's order (the\n"
"                     fields of --output json, with index, status, detail)\n"
"  --concurrency N    --batch: chats at once, on N connections, in one\n"
"                     thread (default 4)\n"
"  -v                 status, request id, timings and usage on stderr\n"
"  --version          versions of chatwire, mbedTLS and the TLS versions built\n"
"The key comes from COMETAPI_KEY, or else OPENAI_API_KEY.\n"
"Exit codes: 0 ok, 1 usage, 2 network, 3 TLS, 4 API error, 5 bad response,\n"
"6 no content (refusal), 7 the model called tools, 8 --batch: some prompts\n"
"failed (their lines say why).\n",
            CW_DEFAULT_BASE_URL, CW_DEFAULT_MODEL, CW_TLS_DEFAULT_CA_FILE);
}

/* s made printable for a one-line message: control characters and bytes
 * above 0x7e as \xNN (so a CR or LF from a URL or key file cannot break
 * the line), cut to fit out. */
static const char *printable(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    for (; *s != '\0' && n + 5u < cap; s++) {
        unsigned char b = (unsigned char)*s;
        if (b >= 0x20u && b < 0x7fu) {
            out[n++] = (char)b;
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[b >> 4];
            out[n++] = hex[b & 0xfu];
        }
    }
    if (*s != '\0' && n + 4u <= cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

/* fmt with a and b, printable, on one stderr line; returns code. */
static int fail(int code, const char *fmt, const char *a, const char *b)
{
    char pa[256];
    char pb[256];
    fprintf(stderr, "chatwire: ");
    fprintf(stderr, fmt, printable(a, pa, sizeof pa),
            printable(b, pb, sizeof pb));
    fputc('\n', stderr);
    return code;
}

/* Why a key or model value would fail, or NULL when it is fine: control
 * characters anywhere, white space at either end (a key read with
 * $(cat keyfile) keeps a CR or a trailing space). The key also goes into a
 * header line, so any space or non-ASCII byte in it is refused too. */
static const char *bad_value(const char *v, bool header, char *why,
                             size_t cap)
{
    size_t len = strlen(v);
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char b = (unsigned char)v[i];
        const char *what = b == '\r'   ? "a carriage return (\\r)"
                           : b == '\n' ? "a line feed (\\n)"
                           : b == '\t' ? "a tab"
                           : b < 0x20u || b == 0x7fu ? "a control character"
                           : header && b == ' '      ? "a space"
                           : header && b > 0x7fu     ? "a non-ASCII byte"
                           : (i == 0u || i + 1u == len) && b == ' '
                               ? "a space" : NULL;
        if (what != NULL) {
            snprintf(why, cap, "%s %s (byte %zu of %zu)%s", what,
                     i + 1u == len ? "at its end" : i == 0u ? "at its start"
                                                             : "inside it",
                     i, len, i + 1u == len && (b == '\r' || b == ' ')
                     ? ": read from a file with a line end? remove it" : "");
            return why;
        }
    }
    return NULL;
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

/* The long options; the values of those with no letter are 1000 up. */
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
    { "tls-session", required_argument, NULL, 'S' },
    { "tools", required_argument, NULL, 1000 },
    { "tool-choice", required_argument, NULL, 1001 },
    { "tool-exec", required_argument, NULL, 1002 },
    { "max-rounds", required_argument, NULL, 1003 },
    { "image", required_argument, NULL, 1004 },
    { "json-schema", required_argument, NULL, 1005 },
    { "max-completion-tokens", required_argument, NULL, 1006 },
    { "reasoning-effort", required_argument, NULL, 1007 },
    { "show-reasoning", no_argument, NULL, 1008 },
    { "header", required_argument, NULL, 1009 },
    { "top-p", required_argument, NULL, 1010 },
    { "stop", required_argument, NULL, 1011 },
    { "seed", required_argument, NULL, 1012 },
    { "output", required_argument, NULL, 1013 },
    { "chat", no_argument, NULL, 'i' },
    { "batch", required_argument, NULL, 1014 },
    { "concurrency", required_argument, NULL, 1015 },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

/* An option that stores its value or flag as it is: true when ch was one. */
static bool plain_option(int ch, char *arg, options_t *o)
{
    switch (ch) {
    case 'b': o->base_url = arg; break;
    case 'm': o->model = arg; break;
    case 's': o->system = arg; break;
    case 'n': o->stream = false; break;
    case 'c': o->ca_file = arg; break;
    case 'p': o->proxy = arg; break;
    case 'S': o->tls_session = arg; break;
    case 'A': o->api_key_header = true; break;
    case 'v': o->verbose = true; break;
    case 'i': o->chat = true; break;
    case 1000: o->tools_file = arg; break;
    case 1001: o->tool_choice = arg; break;
    case 1002: o->tool_exec = arg; break;
    case 1005: o->json_schema_file = arg; break;
    case 1007: o->reasoning_effort = arg; break;
    case 1008: o->show_reasoning = true; break;
    case 1014: o->batch_file = arg; break;
    default: return false;
    }
    return true;
}

/* A number with its range: 0, EXIT_USAGE (said why), or -1 when ch is not
 * such an option. */
static int number_option(int ch, char *arg, options_t *o)
{
    char *end;

    switch (ch) {
    case 'x':
        o->max_tokens = strtol(arg, &end, 10);
        if (*end != '\0' || o->max_tokens <= 0 || o->max_tokens > 1000000) {
            return fail(EXIT_USAGE, "bad --max-tokens: %s%s", arg, "");
        }
        return 0;
    case 't':
        o->temperature = strtod(arg, &end);
        if (*end != '\0' || !(o->temperature >= 0.0 &&
                              o->temperature <= 2.0)) {
            return fail(EXIT_USAGE, "bad --temperature: %s%s (0..2)",
                        arg, "");
        }
        return 0;
    case 'T':
    case 'C':
    case 'I': {
        long v = strtol(arg, &end, 10);
        if (*end != '\0' || v <= 0 || v > 86400000L) {
            return fail(EXIT_USAGE, "bad timeout: %s%s (milliseconds)",
                        arg, "");
        }
        if (ch == 'T') {
            o->timeout_ms = v;
        } else if (ch == 'C') {
            o->connect_timeout_ms = v;
        } else {
            o->idle_timeout_ms = v;
        }
        return 0;
    }
    case 'R':
        o->max_retries = strtol(arg, &end, 10);
        if (*end != '\0' || o->max_retries < 0 || o->max_retries > 10) {
            return fail(EXIT_USAGE, "bad --max-retries: %s%s (0..10)",
                        arg, "");
        }
        return 0;
    case 1003:
        o->max_rounds = strtol(arg, &end, 10);
        if (*end != '\0' || o->max_rounds < 1 || o->max_rounds > 100) {
            return fail(EXIT_USAGE, "bad --max-rounds: %s%s (1..100)",
                        arg, "");
        }
        return 0;
    case 1006:
        o->max_completion_tokens = strtol(arg, &end, 10);
        if (*end != '\0' || o->max_completion_tokens <= 0 ||
            o->max_completion_tokens > 10000000L) {
            return fail(EXIT_USAGE, "bad --max-completion-tokens: %s%s",
                        arg, "");
        }
        return 0;
    case 1010:
        o->top_p = strtod(arg, &end);
        if (*end != '\0' || !(o->top_p >= 0.0 && o->top_p <= 1.0)) {
            return fail(EXIT_USAGE, "bad --top-p: %s%s (0..1)", arg, "");
        }
        return 0;
    case 1015:
        o->concurrency = strtol(arg, &end, 10);
        if (*end != '\0' || o->concurrency < 1 || o->concurrency > 256) {
            return fail(EXIT_USAGE, "bad --concurrency: %s%s (1..256)", arg,
                        "");
        }
        return 0;
    case 1012:
        errno = 0;
        o->seed = strtoll(arg, &end, 10);
        if (*end != '\0' || errno != 0 || end == arg) {
            return fail(EXIT_USAGE, "bad --seed: %s%s", arg, "");
        }
        o->has_seed = true;
        return 0;
    default:
        return -1;
    }
}

/* A choice among words, or one more of a repeatable option: 0, EXIT_USAGE
 * (said why), or -1 when ch is not such an option. */
static int choice_option(int ch, char *arg, options_t *o)
{
    switch (ch) {
    case '1':
    case '2': {
        int v = tls_version_arg(arg);
        if (v < 0) {
            return fail(EXIT_USAGE, "bad TLS version: %s%s (1.2 or 1.3)",
                        arg, "");
        }
        if (ch == '1') {
            o->tls_min = v;
        } else {
            o->tls_max = v;
        }
        return 0;
    }
    case 1004:
        if (o->n_images == MAX_IMAGES) {
            return fail(EXIT_USAGE, "more than %s images%s", "8", "");
        }
        if (cli_image_mime(arg) == NULL) {
            return fail(EXIT_USAGE, "--image %s: not a .jpg, .jpeg, "
                        ".png, .gif or .webp file%s", arg, "");
        }
        o->images[o->n_images++] = arg;
        return 0;
    case 1009:
        if (o->n_headers == MAX_HEADERS) {
            return fail(EXIT_USAGE, "more than %s --header options%s",
                        "16", "");
        }
        o->headers[o->n_headers++] = arg;
        return 0;
    case 1011:
        if (o->n_stops == 4u) {
            return fail(EXIT_USAGE, "more than %s --stop strings%s", "4",
                        "");
        }
        o->stops[o->n_stops++] = arg;
        return 0;
    case 1013:
        if (strcmp(arg, "json") != 0 && strcmp(arg, "text") != 0) {
            return fail(EXIT_USAGE, "bad --output: %s%s (json or text)",
                        arg, "");
        }
        o->output_json = strcmp(arg, "json") == 0;
        return 0;
    default:
        return -1;
    }
}

/* --batch takes its prompts from its file and streams each: what goes
 * with it. Returns 0 or EXIT_USAGE. */
static int batch_operands(int argc, const options_t *o)
{
    if (o->batch_file == NULL) {
        return o->concurrency > 0
                   ? fail(EXIT_USAGE, "--concurrency goes with --batch%s%s",
                          "", "")
                   : 0;
    }
    if (optind != argc || o->chat || o->output_json || !o->stream ||
        o->tools_file != NULL || o->n_images > 0u || o->tls_session != NULL) {
        return fail(EXIT_USAGE, "--batch takes its prompts from its file "
                    "and streams each: give no PROMPT, and none of --chat, "
                    "--output, --no-stream, --tools, --image, "
                    "--tls-session%s%s", "", "");
    }
    return 0;
}

/* The operand: the prompt ("-": standard input), or none with --chat or
 * --batch. Returns 0 or EXIT_USAGE. */
static int prompt_operand(int argc, char **argv, options_t *o)
{
    int rc = batch_operands(argc, o);

    if (rc != 0 || o->batch_file != NULL) {
        return rc;
    }
    if (o->chat && (optind != argc || o->output_json)) {
        return fail(EXIT_USAGE, "--chat reads the prompts from standard "
                    "input: give no PROMPT%s%s", o->output_json
                    ? ", and no --output json" : "", "");
    }
    if (o->chat) {
        o->prompt = NULL;
    } else if (optind != argc - 1) {
        usage(stderr);
        return EXIT_USAGE;
    } else {
        o->prompt = argv[optind];
    }
    if (o->prompt != NULL && strcmp(o->prompt, "-") == 0) {
        size_t n = fread(stdin_prompt, 1, PROMPT_MAX, stdin);
        if (n == PROMPT_MAX && fgetc(stdin) != EOF) {
            return fail(EXIT_USAGE, "the prompt on standard input is over "
                        "1048576 bytes (1 MiB)%s%s", "", "");
        }
        if (ferror(stdin)) {
            return fail(EXIT_USAGE, "cannot read the prompt from standard "
                        "input: %s%s", strerror(errno), "");
        }
        stdin_prompt[n] = '\0';
        o->prompt = stdin_prompt;
    }
    return 0;
}

static int parse_args(int argc, char **argv, options_t *o)
{
    char why[160];
    int ch;
    int rc = 0;

    memset(o, 0, sizeof *o);
    o->base_url = CW_DEFAULT_BASE_URL;
    o->model = CW_DEFAULT_MODEL;
    o->temperature = -1.0;
    o->timeout_ms = 0;
    o->max_retries = 2;
    o->stream = true;
    o->max_rounds = 8;
    o->top_p = -1.0;
    while (rc == 0 &&
           (ch = getopt_long(argc, argv, "vhi", longs, NULL)) != -1) {
        if (plain_option(ch, optarg, o)) {
            continue;
        }
        rc = number_option(ch, optarg, o);
        if (rc < 0) {
            rc = choice_option(ch, optarg, o);
        }
        if (rc >= 0) {
            continue;
        }
        if (ch == 'h') {
            usage(stdout);
            exit(0);
        }
        if (ch == 'V') {
            printf("chatwire %s (%s)\n", CW_VERSION_STRING, cw_tls_build_info());
            exit(0);
        }
        usage(stderr);
        rc = EXIT_USAGE;
    }
    if (rc == 0) {
        rc = prompt_operand(argc, argv, o);
    }
    if (rc == 0 && bad_value(o->model, false, why, sizeof why) != NULL) {
        rc = fail(EXIT_USAGE, "bad --model: it has %s%s", why, "");
    }
    return rc;
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

/* What the command keeps of a call for --output json, and the state of a
 * conversation (one prompt, or --chat) with its tool rounds. */
static cw_history_t hist;
static cw_message_t hist_msgs[HISTORY_MSGS];
static cw_message_ext_t hist_ext[HISTORY_MSGS];
static cw_tool_call_t hist_calls[HISTORY_MSGS];
static char hist_text[2u * 1024u * 1024u];
static cw_tool_t tools[MAX_TOOLS];
static char tools_store[64u * 1024u];
static cw_tool_call_t calls[MAX_CALLS];
static char call_args[256u * 1024u];
static char json_schema[256u * 1024u];
static char schema_name[65];
static cli_file_t files[MAX_IMAGES];
static cw_content_part_t parts[1 + MAX_IMAGES];
static char tool_out[TOOL_OUTPUT_MAX];

typedef struct collect {
    char *buf;
    size_t cap;
    size_t len;
    bool cut;
} collect_t;

static char content_buf[4u * 1024u * 1024u];
static char reasoning_buf[1024u * 1024u];
static collect_t content = { content_buf, sizeof content_buf, 0, false };
static collect_t reasoning = { reasoning_buf, sizeof reasoning_buf, 0, false };

static void keep(collect_t *c, const char *text, size_t len)
{
    size_t n = len < c->cap - c->len ? len : c->cap - c->len;
    memcpy(c->buf + c->len, text, n);
    c->len += n;
    c->cut = c->cut || n < len;
}

static bool json_out;    /* --output json: the answer printed at the end */
static bool keep_answer; /* --chat: the streamed answer kept for the history */
static bool show_reasoning;

static int on_delta(void *user, const char *text, size_t len)
{
    (void)user;
    if (json_out || keep_answer) {
        keep(&content, text, len);
    }
    if (json_out) {
        return 0;
    }
    if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        return 1; /* stdout is gone (a closed pipe): stop */
    }
    return 0;
}

static int on_reasoning(void *user, const char *text, size_t len)
{
    (void)user;
    if (json_out) {
        keep(&reasoning, text, len);
    }
    if (show_reasoning) {
        fwrite(text, 1, len, stderr);
        fflush(stderr);
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

/* The option that sets the limit that fired. */
static const char *timeout_option(const cw_result_t *res)
{
    switch (res->timed_out) {
    case CW_TIMEOUT_CONNECT:
        return "--connect-timeout-ms";
    case CW_TIMEOUT_TOTAL:
        return "--timeout-ms";
    default:
        return "--idle-timeout-ms";
    }
}

/* The sentence for one failure, into line; returns the exit code. */
static int describe(int rc, const cw_result_t *res, const cw_url_t *url,
                    char *line, size_t cap)
{
    const char *detail = res->detail;

    switch (rc) {
    case CW_ERR_API: {
        const char *what = res->error.code[0] != '\0' ? res->error.code
                                                      : res->error.type;
        if (res->http.status >= 200 && res->http.status < 300) {
            snprintf(line, cap, "stream error %s: %s", what,
                     res->error.message);
        } else {
            snprintf(line, cap, "HTTP %d %s%s%s", res->http.status, what,
                     what[0] != '\0' ? ": " : "", res->error.message);
        }
        return EXIT_API;
    }
    case CW_ERR_HTTP:
        snprintf(line, cap, "HTTP %d from %.*s (no error details): %s",
                 res->http.status, (int)url->host_len, url->host, detail);
        return EXIT_API;
    case CW_ERR_TLS:
    case CW_ERR_CERT:
        snprintf(line, cap, "%s", cw_tls_error(&tls)[0] != '\0'
                                      ? cw_tls_error(&tls) : cw_strerror(rc));
        return EXIT_TLS;
    case CW_ERR_PROXY:
        snprintf(line, cap, "%s", cw_proxy_error(&proxy));
        return EXIT_NETWORK;
    case CW_ERR_DNS:
        snprintf(line, cap, "cannot resolve %.*s: %s", (int)url->host_len,
                 url->host, gai_strerror(sock.gai_error));
        return EXIT_NETWORK;
    case CW_ERR_CONNECT:
        snprintf(line, cap, "cannot connect to %.*s port %u: %s",
                 (int)url->host_len, url->host, (unsigned)url->port,
                 strerror(sock.last_errno));
        return EXIT_NETWORK;
    case CW_ERR_TIMEOUT:
        snprintf(line, cap, "timed out: %s (set with %s)",
                 detail[0] != '\0' ? detail : cw_strerror(rc),
                 timeout_option(res));
        return EXIT_NETWORK;
    case CW_ERR_CLOSED:
    case CW_ERR_IO:
        snprintf(line, cap, "%s%s%s", cw_strerror(rc),
                 detail[0] != '\0' ? ": " : "", detail);
        return EXIT_NETWORK;
    case CW_ERR_NO_CONTENT:
        snprintf(line, cap, "the model gave no content%s%s",
                 res->refusal ? "; it refused: " : "",
                 !res->refusal ? ""
                 : res->content != NULL ? res->content : res->error.message);
        return EXIT_REFUSED;
    case CW_ERR_TOOL_CALLS:
        snprintf(line, cap, "the model called %u tool%s instead of "
                 "answering: %s (%s)",
                 (unsigned)res->tool_calls, res->tool_calls == 1u ? "" : "s",
                 res->tool_names[0] != '\0' ? res->tool_names : "(unnamed)",
                 n_tools > 0u ? "give --tool-exec CMD to run them"
                              : "no --tools were offered");
        return EXIT_TOOLS;
    case CW_ERR_BUFFER_TOO_SMALL:
        if (res->tool_calls > 0u && detail[0] != '\0') {
            /* the tool calls' storage: the library says which part */
            snprintf(line, cap, "%s", detail);
        } else if (res->needed > 0u) {
            snprintf(line, cap, "the answer needs a buffer of %zu bytes; "
                     "this command has %zu for whole answers: stream it "
                     "(leave out --no-stream)", res->needed, sizeof work_buf);
        } else {
            snprintf(line, cap, "the answer does not fit in this command's "
                     "%zu-byte buffer for whole answers: stream it (leave "
                     "out --no-stream)", sizeof work_buf);
        }
        return EXIT_PROTOCOL;
    case CW_ERR_INVALID_ARG:
    case CW_ERR_INVALID_UTF8:
        snprintf(line, cap, "%s", detail[0] != '\0' ? detail
                 : rc == CW_ERR_INVALID_UTF8 ? "the prompt is not valid UTF-8"
                                             : cw_strerror(rc));
        return EXIT_USAGE;
    default:
        snprintf(line, cap, "%s%s%s", cw_strerror(rc),
                 detail[0] != '\0' ? ": " : "", detail);
        return EXIT_PROTOCOL;
    }
}

/* One line on stderr saying what went wrong, and the exit code. */
static int report(int rc, const cw_result_t *res, const cw_url_t *url)
{
    char line[640];
    char clean[640];
    char tail[64];
    int code = describe(rc, res, url, line, sizeof line);

    snprintf(tail, sizeof tail, "%s", res->partial ? " (answer incomplete)"
                                                   : "");
    if (res->attempts > 1u) {
        size_t n = strlen(tail);
        snprintf(tail + n, sizeof tail - n, " (after %u attempts)",
                 (unsigned)res->attempts);
    }
    printable(line, clean, sizeof clean);
    if (res->http.request_id[0] != '\0') {
        char rid[96];
        fprintf(stderr, "chatwire: %s%s (request id %s)\n", clean, tail,
                printable(res->http.request_id, rid, sizeof rid));
    } else {
        fprintf(stderr, "chatwire: %s%s\n", clean, tail);
    }
    return code;
}

/* Loads the TLS session kept in path, if any. The file holds session
 * keys: one that others can read is refused, not used. Returns 0, or the
 * exit code of a usage error. */
static int session_load(const char *path, bool verbose)
{
    static uint8_t blob[CW_TLS_SESSION_MAX + 512u];
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW);

    if (fd < 0) {
        if (errno == ENOENT) {
            return 0; /* the first run: the file is made after it */
        }
        return fail(EXIT_USAGE, "cannot open the TLS session file %s: %s",
                    path, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        close(fd);
        return fail(EXIT_USAGE, "the TLS session file %s holds session "
                    "keys and must be a file of yours that only you can "
                    "read (chmod 600 it, or delete it)%s", path, "");
    }
    n = read(fd, blob, sizeof blob);
    close(fd);
    if (n < 0) {
        return fail(EXIT_USAGE, "cannot read the TLS session file %s: %s",
                    path, strerror(errno));
    }
    if (cw_tls_session_import(&tls, blob, (size_t)n) != CW_OK && verbose) {
        char p[256];
        fprintf(stderr, "chatwire: TLS session in %s not used: %s\n",
                printable(path, p, sizeof p), cw_tls_session_note(&tls));
    }
    return 0;
}

/* Keeps the TLS session in path for the next run: written to a new file of
 * mode 0600 beside it, then renamed over it. Says so when it cannot. */
static void session_store(const char *path)
{
    static uint8_t blob[CW_TLS_SESSION_MAX + 512u];
    char tmp[4096];
    size_t len = 0;
    int fd;
    bool ok;

    if (cw_tls_session_export(&tls, blob, sizeof blob, &len) != CW_OK) {
        return; /* none to keep (no handshake, or sessions refused) */
    }
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.new", path) >= sizeof tmp) {
        return;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    ok = fd >= 0 && fchmod(fd, 0600) == 0 &&
         write(fd, blob, len) == (ssize_t)len;
    if (fd >= 0) {
        ok = close(fd) == 0 && ok;
    }
    ok = ok && rename(tmp, path) == 0;
    memset(blob, 0, sizeof blob); /* a secret */
    if (!ok) {
        (void)unlink(tmp);
        fail(0, "cannot keep the TLS session in %s: %s", path,
             strerror(errno));
    }
}

/* What -v prints after the call. */
/* The process's peak resident memory, as the kernel counts it (Linux;
 * elsewhere the line is left out). */
static void report_peak_memory(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];

    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            fprintf(stderr, "chatwire: peak resident memory %ld KiB\n",
                    strtol(line + 6, NULL, 10));
        }
    }
    if (f != NULL) {
        fclose(f);
    }
}

/* "tokens P prompt + C completion = T", or that the server gave none. */
static void usage_text(const cw_result_t *res, char *out, size_t cap)
{
    if (res->total_tokens >= 0 || res->prompt_tokens >= 0) {
        snprintf(out, cap, "tokens %lld prompt + %lld completion = %lld",
                 (long long)res->prompt_tokens,
                 (long long)res->completion_tokens,
                 (long long)res->total_tokens);
    } else {
        snprintf(out, cap, "usage not reported");
    }
}

static void report_verbose(const options_t *o, const cw_result_t *res,
                           uint32_t ms)
{
    const char *tv = base.tls ? cw_tls_version(&tls) : "";
    char usage[96];
    char via[300];

    if (res->http.status == 0) {
        fprintf(stderr, "chatwire: no HTTP response after %u ms\n",
                (unsigned)ms);
        return;
    }
    usage_text(res, usage, sizeof usage);
    via[0] = '\0';
    if (o->proxy_used != NULL) {
        char p[256];
        snprintf(via, sizeof via, ", via proxy %s:%u",
                 printable(proxy.host, p, sizeof p), (unsigned)proxy.port);
    }
    fprintf(stderr, "chatwire: HTTP %d, request id %s, model %s, finish %s, "
            "%s, %u attempt%s, %s connection%s%s%s%s%s, %u ms\n",
            res->http.status,
            res->http.request_id[0] ? res->http.request_id : "-",
            res->model[0] ? res->model : "-",
            res->finish_reason[0] ? res->finish_reason : "-", usage,
            (unsigned)res->attempts, res->attempts == 1u ? "" : "s",
            res->reused_connection ? "reused" : "new",
            res->stale_reconnect ? " (a stale one replaced)" : "", via,
            tv[0] ? ", " : "", tv,
            !base.tls ? ""
            : cw_tls_resumed(&tls) ? " resumed" : " full handshake",
            (unsigned)ms);
    if (o->tls_session != NULL && base.tls) {
        char p[256];
        fprintf(stderr, "chatwire: TLS session (%s): %s\n",
                printable(o->tls_session, p, sizeof p),
                cw_tls_session_note(&tls));
    }
    if (res->retry_wait_ms > 0u) {
        fprintf(stderr, "chatwire: waited %u ms between attempts\n",
                (unsigned)res->retry_wait_ms);
    }
    report_peak_memory();
}

/* Once, before the first call: the tools, the schema and the images, and
 * the conversation with its system message. Returns 0 or an exit code. */
static int prepare(options_t *o)
{
    char err[512];
    size_t i;

    json_out = o->output_json;
    show_reasoning = o->show_reasoning;
    cw_history_init(&hist, hist_msgs, HISTORY_MSGS, hist_text,
                    sizeof hist_text);
    cw_history_init_tools(&hist, hist_ext, hist_calls, HISTORY_MSGS);
    hist.drop_oldest = o->chat;
    if (o->system != NULL) {
        if (cw_history_add(&hist, "system", o->system,
                           strlen(o->system)) != CW_OK) {
            return fail(EXIT_USAGE, "the system message is too long%s%s",
                        "", "");
        }
        hist.pinned = 1;
    }
    if (o->tools_file != NULL &&
        cli_load_tools(o->tools_file, tools, MAX_TOOLS, &n_tools,
                       tools_store, sizeof tools_store, err,
                       sizeof err) != 0) {
        return fail(EXIT_USAGE, "%s%s", err, "");
    }
    if (o->tool_exec != NULL && n_tools == 0u) {
        return fail(EXIT_USAGE, "--tool-exec needs --tools%s%s", "", "");
    }
    if (o->json_schema_file != NULL) {
        const char *b = strrchr(o->json_schema_file, '/');
        size_t n = 0;
        if (cli_read_file(o->json_schema_file, json_schema,
                          sizeof json_schema, err, sizeof err) < 0) {
            return fail(EXIT_USAGE, "%s%s", err, "");
        }
        /* the schema's name: the file's, in the characters names take */
        for (b = b != NULL ? b + 1 : o->json_schema_file;
             *b != '\0' && *b != '.' && n < 64u; b++) {
            schema_name[n++] = (char)(((*b >= 'a' && *b <= 'z') ||
                                       (*b >= 'A' && *b <= 'Z') ||
                                       (*b >= '0' && *b <= '9') ||
                                       *b == '-') ? *b : '_');
        }
        if (n == 0u) {
            schema_name[n++] = 's';
        }
        schema_name[n] = '\0';
    }
    for (i = 0; i < o->n_images; i++) {
        if (cli_file_open(&files[i], o->images[i], err, sizeof err) != 0) {
            return fail(EXIT_USAGE, "%s%s", err, "");
        }
    }
    return 0;
}

/* The request for the conversation as it is now. */
static void build_request(const options_t *o, cw_chat_request_t *req)
{
    cw_chat_request_init(req, hist.msgs, hist.count);
    req->message_ext = hist.ext;
    req->model = o->model;
    req->stream = o->stream;
    req->include_usage = o->stream;
    req->max_tokens = (int32_t)o->max_tokens;
    req->temperature = (float)o->temperature;
    req->top_p = (float)o->top_p;
    req->stop = o->stops;
    req->stop_count = o->n_stops;
    req->on_delta = on_delta;
    req->on_reasoning = on_reasoning;
    req->tools = n_tools > 0u ? tools : NULL;
    req->tool_count = n_tools;
    if (o->tool_choice != NULL) {
        req->tool_choice = strcmp(o->tool_choice, "none") == 0
                               ? CW_TOOL_CHOICE_NONE
                           : strcmp(o->tool_choice, "auto") == 0
                               ? CW_TOOL_CHOICE_AUTO
                           : strcmp(o->tool_choice, "required") == 0
                               ? CW_TOOL_CHOICE_REQUIRED
                               : CW_TOOL_CHOICE_FUNCTION;
        req->tool_choice_name = o->tool_choice;
    }
    req->tool_call_buf = calls;
    req->tool_call_max = MAX_CALLS;
    req->tool_args = call_args;
    req->tool_args_size = sizeof call_args;
    req->max_completion_tokens = (int32_t)o->max_completion_tokens;
    req->reasoning_effort = o->reasoning_effort;
    if (o->json_schema_file != NULL) {
        req->response_format = CW_FORMAT_JSON_SCHEMA;
        req->json_schema_name = schema_name;
        req->json_schema = json_schema;
        req->json_schema_strict = true;
    }
    req->send_seed = o->has_seed;
    req->seed = (int64_t)o->seed;
    req->headers = o->headers;
    req->header_count = o->n_headers;
}

/* One prompt: the user message (with the images, when given), then the
 * calls and their tool rounds until the model answers in text. */
static int turn(const options_t *o, const char *prompt, cw_result_t *res)
{
    cw_chat_request_t req;
    long round;
    size_t i;
    int rc = (int)cw_history_add(&hist, "user", prompt, strlen(prompt));

    content.len = 0;
    reasoning.len = 0;
    memset(res, 0, sizeof *res);
    if (rc != CW_OK) {
        fprintf(stderr, "chatwire: the prompt does not fit in the "
                "conversation's %zu bytes\n", sizeof hist_text);
        return rc;
    }
    if (o->n_images > 0u && hist.count == (o->system != NULL ? 2u : 1u)) {
        /* the prompt's text, then the images: parts of one message */
        cw_message_t *m = &hist.msgs[hist.count - 1u];
        memset(parts, 0, sizeof parts);
        parts[0].type = CW_PART_TEXT;
        parts[0].text = m->content;
        for (i = 0; i < o->n_images; i++) {
            cw_content_part_t *p = &parts[1u + i];
            p->type = CW_PART_IMAGE_URL;
            p->mime = cli_image_mime(o->images[i]);
            p->read = cli_file_read;
            p->rewind = cli_file_rewind;
            p->read_ctx = &files[i];
            p->size = files[i].size;
        }
        hist.ext[hist.count - 1u].parts = parts;
        hist.ext[hist.count - 1u].part_count = 1u + o->n_images;
        m->content = NULL;
    }
    for (round = 0;; round++) {
        for (i = 0; i < o->n_images; i++) {
            (void)cli_file_rewind(&files[i]); /* read again, from the start */
        }
        build_request(o, &req);
        rc = (int)cw_chat(&client, &req, res);
        if (rc != CW_OK || res->tool_calls == 0u || o->tool_exec == NULL ||
            round + 1 >= o->max_rounds) {
            break;
        }
        /* the calls, then each call's result, go into the conversation */
        rc = (int)cw_history_add_tool_calls(&hist, calls, res->tool_calls);
        for (i = 0; rc == CW_OK && i < res->tool_calls; i++) {
            char err[512];
            size_t len = 0;
            if (cli_run_tool(o->tool_exec, &calls[i], tool_out,
                             sizeof tool_out, &len, err, sizeof err) != 0) {
                fprintf(stderr, "chatwire: %s\n", err);
                return CW_ERR_ABORTED;
            }
            if (o->verbose) {
                char pn[96];
                fprintf(stderr, "chatwire: ran %s (%s): %zu bytes back\n",
                        printable(calls[i].name, pn, sizeof pn), calls[i].id,
                        len);
            }
            rc = (int)cw_history_add_tool_result(&hist, calls[i].id, tool_out,
                                                 len);
        }
        if (rc != CW_OK) {
            fprintf(stderr, "chatwire: the tool round does not fit in the "
                    "conversation's storage\n");
            return rc;
        }
    }
    if (rc == CW_OK && res->tool_calls == 0u) {
        /* the answer joins the conversation, for --chat */
        const char *text = o->stream ? content.buf : res->content;
        size_t len = o->stream ? content.len : res->content_len;
        if (!o->stream || json_out || keep_answer) {
            (void)cw_history_add(&hist, "assistant", text, len);
        }
    }
    if (round + 1 >= o->max_rounds && rc == CW_OK && res->tool_calls > 0u &&
        o->tool_exec != NULL) {
        fprintf(stderr, "chatwire: the model still called tools after %ld "
                "rounds (--max-rounds)\n", o->max_rounds);
    }
    return rc;
}

/* --output json: exactly one object, whatever happened. */
static void print_json(const cw_result_t *res, int rc)
{
    FILE *out = stdout;
    uint32_t k;
    bool have_text = json_out && (content.len > 0u || res->content != NULL);
    const char *text = res->content != NULL ? res->content : content.buf;
    size_t text_len = res->content != NULL ? res->content_len : content.len;

    fputs("{\"content\":", out);
    if (have_text && !res->refusal) {
        cli_json_string(out, text, text_len);
    } else {
        fputs("null", out);
    }
    fputs(",\"refusal\":", out);
    if (res->refusal) {
        if (res->content != NULL) {
            cli_json_string(out, res->content, res->content_len);
        } else {
            cli_json_string(out, res->error.message,
                            strlen(res->error.message));
        }
    } else {
        fputs("null", out);
    }
    fputs(",\"reasoning\":", out);
    cli_json_string(out, reasoning.len > 0u ? reasoning.buf : NULL,
                    reasoning.len);
    fputs(",\"tool_calls\":[", out);
    for (k = 0; rc == CW_OK && k < res->tool_calls && k < MAX_CALLS; k++) {
        const cw_tool_call_t *c = &calls[k];
        fprintf(out, "%s{\"index\":%u,\"id\":", k > 0u ? "," : "",
                (unsigned)c->index);
        cli_json_string(out, c->id, strlen(c->id));
        fputs(",\"type\":\"function\",\"name\":", out);
        cli_json_string(out, c->name, strlen(c->name));
        fputs(",\"arguments\":", out);
        cli_json_string(out, c->arguments != NULL ? c->arguments : "",
                        c->arguments_len);
        fputc('}', out);
    }
    fputs("],", out);
    cli_json_result(out, res);
    fputs("}\n", out);
    if (content.cut || reasoning.cut) {
        fprintf(stderr, "chatwire: the answer or its reasoning was longer "
                "than this command keeps for --output json (%zu / %zu "
                "bytes): cut\n", content.cap, reasoning.cap);
    }
}

/* --chat: one turn per line of standard input. */
static int chat_loop(const options_t *o)
{
    static char line[64u * 1024u];
    int last = 0;

    for (;;) {
        cw_result_t res;
        uint32_t dropped = hist.dropped;
        size_t n;
        int rc;

        if (isatty(0)) {
            fputs("> ", stderr);
            fflush(stderr);
        }
        if (fgets(line, sizeof line, stdin) == NULL) {
            break;
        }
        n = strlen(line);
        while (n > 0u && (line[n - 1u] == '\n' || line[n - 1u] == '\r')) {
            line[--n] = '\0';
        }
        if (n == 0u) {
            continue;
        }
        keep_answer = true; /* the streamed answer goes into the history */
        rc = turn(o, line, &res);
        keep_answer = false;
        if (!o->stream && rc == CW_OK && res.content != NULL) {
            fwrite(res.content, 1, res.content_len, stdout);
        }
        fputc('\n', stdout);
        fflush(stdout);
        if (hist.dropped > dropped) {
            fprintf(stderr, "chatwire: the conversation is full: the oldest "
                    "%u message%s dropped\n",
                    (unsigned)(hist.dropped - dropped),
                    hist.dropped - dropped == 1u ? " was" : "s were");
        }
        if (rc == CW_OK && res.tool_calls > 0u) {
            rc = CW_ERR_TOOL_CALLS;
        }
        last = rc != CW_OK ? report(rc, &res, &base) : 0;
        if (rc != CW_OK) {
            /* the prompt (and any partial answer) leaves the conversation */
            while (hist.count > 0u &&
                   strcmp(hist.msgs[hist.count - 1u].role, "user") != 0) {
                cw_history_pop(&hist);
            }
            cw_history_pop(&hist);
        }
    }
    return last;
}

/* The API key from COMETAPI_KEY, else OPENAI_API_KEY: *key, or an exit
 * code (what is wrong, never the key). */
static int api_key(const char **key)
{
    const char *var = "COMETAPI_KEY";
    char why[160];

    *key = getenv(var);
    if (*key == NULL || (*key)[0] == '\0') {
        var = "OPENAI_API_KEY";
        *key = getenv(var);
    }
    if (*key == NULL || (*key)[0] == '\0') {
        return fail(EXIT_USAGE, "no API key: set COMETAPI_KEY (or "
                    "OPENAI_API_KEY), e.g. export COMETAPI_KEY=sk-...%s%s",
                    "", "");
    }
    if (bad_value(*key, true, why, sizeof why) != NULL) {
        /* which byte, never the key */
        return fail(EXIT_USAGE, "bad %s: it has %s", var, why);
    }
    return 0;
}

/* The client's configuration from the options, over POSIX sockets. */
static void client_config(options_t *o, const char *key,
                          cw_client_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->base_url = o->base_url;
    cfg->api_key = key;
    cfg->auth = o->api_key_header ? CW_AUTH_API_KEY : CW_AUTH_BEARER;
    cfg->io_buf = io_buf;
    cfg->io_size = sizeof io_buf;
    cfg->work_buf = work_buf;
    cfg->work_size = sizeof work_buf;
    cfg->timeout_ms = o->timeout_ms > 0 ? (uint32_t)o->timeout_ms
                                        : CW_NO_TIMEOUT;
    cfg->connect_timeout_ms = (uint32_t)o->connect_timeout_ms;
    cfg->idle_timeout_ms = (uint32_t)o->idle_timeout_ms;
    cfg->max_retries = o->max_retries == 0 ? CW_NO_RETRIES
                                           : (int)o->max_retries;
    cfg->platform = cw_posix_platform();
    cfg->on_retry = on_retry;
    cfg->on_retry_user = o;
    cw_posix_init(&sock);
    cfg->transport = cw_posix_transport(&sock);
}

/* The transports over the socket: the proxy in effect, then TLS for an
 * https base URL (with the kept session). Returns 0 or an exit code. */
static int stack_transports(options_t *o, cw_client_config_t *cfg)
{
    if (cw_url_parse(o->base_url, &base) != CW_OK) {
        char shown[512];
        fprintf(stderr, "chatwire: bad --base-url %s: %s (at byte %zu)\n",
                printable(o->base_url, shown, sizeof shown), base.error,
                base.error_at);
        return EXIT_USAGE;
    }
    o->proxy_used = pick_proxy(o, &base);
    if (o->proxy_used != NULL) {
        if (cw_proxy_init(&proxy, cfg->transport, o->proxy_used) != CW_OK) {
            return fail(EXIT_USAGE, "bad proxy URL %s (want http://[user:"
                        "password@]host[:port])%s", "(not shown: it may "
                        "hold a password)", "");
        }
        cfg->transport = cw_proxy_transport(&proxy);
    }
    if (base.tls) {
        cw_tls_config_t tcfg;
        cw_status_t st;
        memset(&tcfg, 0, sizeof tcfg);
        tcfg.ca_file = o->ca_file;
        tcfg.min_version = (uint8_t)o->tls_min;
        tcfg.max_version = (uint8_t)o->tls_max;
        st = cw_tls_init(&tls, cfg->transport, &tcfg);
        if (st != CW_OK) {
            fprintf(stderr, "chatwire: %s\n", cw_tls_error(&tls));
            return st == CW_ERR_INVALID_ARG ? EXIT_USAGE : EXIT_TLS;
        }
        cfg->transport = cw_tls_transport(&tls);
        if (o->tls_session != NULL) {
            return session_load(o->tls_session, o->verbose);
        }
    }
    return 0;
}

/* --batch: the chats of the file's lines, in one thread (cli_batch.c).
 * Returns the exit code. */
static int batch(options_t *o, const char *key, const cw_client_config_t *cfg)
{
    cli_batch_opts_t b;

    if (cw_url_parse(o->base_url, &base) != CW_OK) {
        char shown[512];
        fprintf(stderr, "chatwire: bad --base-url %s: %s (at byte %zu)\n",
                printable(o->base_url, shown, sizeof shown), base.error,
                base.error_at);
        return EXIT_USAGE;
    }
    memset(&b, 0, sizeof b);
    b.proxy = pick_proxy(o, &base);
    b.file = o->batch_file;
    b.concurrency = o->concurrency > 0 ? (size_t)o->concurrency : 4u;
    b.base_url = o->base_url;
    b.key = key;
    b.auth = cfg->auth;
    b.model = o->model;
    b.system = o->system;
    b.ca_file = o->ca_file;
    b.tls_min = (uint8_t)o->tls_min;
    b.tls_max = (uint8_t)o->tls_max;
    b.timeout_ms = cfg->timeout_ms;
    b.connect_timeout_ms = cfg->connect_timeout_ms;
    b.idle_timeout_ms = cfg->idle_timeout_ms;
    b.max_retries = cfg->max_retries;
    b.max_tokens = o->max_tokens;
    b.temperature = o->temperature;
    return cli_batch(&b);
}

/* One prompt from the command line: the answer on standard output (or
 * the JSON object), the report on standard error. Returns the exit code. */
static int single_turn(const options_t *o)
{
    uint32_t t0 = cw_posix_now_ms(NULL);
    cw_result_t res;
    int rc = turn(o, o->prompt, &res);

    if (o->output_json) {
        print_json(&res, rc);
    } else if (rc == CW_OK && res.tool_calls == 0u) {
        if (!o->stream) {
            fwrite(res.content, 1, res.content_len, stdout);
        }
        fputc('\n', stdout);
    } else if (o->stream && res.content_len > 0u) {
        fputc('\n', stdout);
    }
    fflush(stdout);
    if (o->tls_session != NULL && base.tls) {
        session_store(o->tls_session);
    }
    if (o->verbose) {
        report_verbose(o, &res, cw_posix_now_ms(NULL) - t0);
    }
    if (rc == CW_OK && res.tool_calls > 0u) {
        rc = CW_ERR_TOOL_CALLS; /* calls left unanswered */
    }
    if (rc != CW_OK) {
        rc = report(rc, &res, &base);
    }
    return rc;
}

int main(int argc, char **argv)
{
    options_t o;
    cw_client_config_t cfg;
    const char *key = NULL;
    int rc = parse_args(argc, argv, &o);

    if (rc == 0) {
        rc = api_key(&key);
    }
    if (rc != 0) {
        return rc;
    }
    client_config(&o, key, &cfg);
    if (o.batch_file != NULL) {
        return batch(&o, key, &cfg);
    }
    rc = stack_transports(&o, &cfg);
    if (rc != 0) {
        return rc;
    }
    if (cw_client_init(&client, &cfg) != CW_OK) {
        return fail(EXIT_USAGE, "cannot set up the client for %s%s",
                    o.base_url, "");
    }
    rc = prepare(&o);
    if (rc != 0) {
        return rc;
    }
    rc = o.chat ? chat_loop(&o) : single_turn(&o);
    cw_client_close(&client);
    if (base.tls) {
        cw_tls_free(&tls);
    }
    return rc;
}
