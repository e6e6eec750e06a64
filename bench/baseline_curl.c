/*
 * baseline_curl.c - the chatwire CLI's job done the way libcurl + cJSON
 * users write it, for scripts/bench.sh. The twin of chatwire_bench.c.
 *
 *   baseline_curl [--stream] [-n N] [--ca FILE] [--base-url URL]
 *                 [--model M] [--times] PROMPT
 *
 * N chat requests (default 1) over one kept-alive connection: one easy
 * handle, reused. Each request body is built with cJSON; the answer is
 * gathered by a write callback into a growing realloc'ed buffer, parsed with
 * cJSON_Parse and walked with cJSON_GetObjectItem down to
 * choices[0].message.content. The content of the last answer (and one
 * newline) goes to stdout.
 *
 * --stream: the write callback splits the body into SSE lines, parses each
 * "data: {...}" line with cJSON and hands choices[0].delta.content to the
 * application as it arrives (the last request's text goes to stdout).
 *
 * --times: the same lines on stderr as chatwire_bench ("first_text_ns=...
 * req=..." when the application first receives text, and "elapsed_ns=...").
 *
 * Trust: CURLOPT_CAINFO with the one CA file given, and no CA directory.
 * The key comes from COMETAPI_KEY (default "test-key").
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_marks.h"

static char stdout_buf[BUFSIZ];

struct buffer {
    char *data;
    size_t len;
};

struct stream_state {
    struct buffer line;     /* the SSE line being assembled */
    int is_last;
    int got_text;
    int times;
    long req;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------- non-stream */

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *b = (struct buffer *)userdata;
    size_t n = size * nmemb;
    char *p = realloc(b->data, b->len + n + 1);
    if (p == NULL) {
        return 0;
    }
    b->data = p;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* ---------------------------------------------------------- stream */

static void on_text(struct stream_state *s, const char *text)
{
    size_t len = strlen(text);
    if (len == 0) {
        return;
    }
    if (!s->got_text) {
        s->got_text = 1;
        if (s->times) {
            fprintf(stderr, "first_text_ns=%llu req=%ld\n",
                    (unsigned long long)mono_ns(), s->req);
        }
    }
    if (s->is_last) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
}

static void handle_line(struct stream_state *s, char *line)
{
    cJSON *root, *choices, *delta, *content;

    if (strncmp(line, "data: ", 6) != 0) {
        return; /* comments, blank lines, other fields */
    }
    line += 6;
    if (strcmp(line, "[DONE]") == 0) {
        return;
    }
    root = cJSON_Parse(line);
    if (root == NULL) {
        return;
    }
    choices = cJSON_GetObjectItem(root, "choices");
    if (cJSON_IsArray(choices) && cJSON_GetArraySize(choices) > 0) {
        delta = cJSON_GetObjectItem(cJSON_GetArrayItem(choices, 0), "delta");
        content = cJSON_GetObjectItem(delta, "content");
        if (cJSON_IsString(content)) {
            on_text(s, content->valuestring);
        }
    }
    cJSON_Delete(root);
}

static size_t stream_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct stream_state *s = (struct stream_state *)userdata;
    size_t n = size * nmemb;
    char *start, *nl;
    char *p = realloc(s->line.data, s->line.len + n + 1);

    if (p == NULL) {
        return 0;
    }
    s->line.data = p;
    memcpy(s->line.data + s->line.len, ptr, n);
    s->line.len += n;
    s->line.data[s->line.len] = '\0';
    /* hand over every complete line, keep the unfinished one */
    start = s->line.data;
    while ((nl = memchr(start, '\n', s->line.len - (size_t)(start - s->line.data))) != NULL) {
        *nl = '\0';
        if (nl > start && nl[-1] == '\r') {
            nl[-1] = '\0';
        }
        handle_line(s, start);
        start = nl + 1;
    }
    s->line.len -= (size_t)(start - s->line.data);
    memmove(s->line.data, start, s->line.len);
    return n;
}

/* ---------------------------------------------------------- one request */

static char *build_body(const char *model, const char *prompt, int stream)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *messages = cJSON_AddArrayToObject(root, "messages");
    cJSON *msg = cJSON_CreateObject();
    char *body;

    cJSON_AddStringToObject(root, "model", model);
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON_AddStringToObject(msg, "content", prompt);
    cJSON_AddItemToArray(messages, msg);
    if (stream) {
        cJSON_AddTrueToObject(root, "stream");
        cJSON_AddTrueToObject(cJSON_AddObjectToObject(root, "stream_options"),
                              "include_usage");
    }
    body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return body;
}

/* Returns 0 on success. For a non-stream request, the last answer's content
 * is printed when print is set. */
static int chat(CURL *curl, const char *url, const char *key,
                const char *model, const char *prompt, int stream,
                struct stream_state *ss, int print)
{
    struct curl_slist *headers = NULL;
    struct buffer resp = { NULL, 0 };
    char auth[512];
    char *body = build_body(model, prompt, stream);
    long status = 0;
    CURLcode res;
    int rc = 1;

    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, auth);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    if (stream) {
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, stream_cb);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, ss);
    } else {
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    }
    res = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (res != CURLE_OK) {
        fprintf(stderr, "baseline_curl: %s\n", curl_easy_strerror(res));
    } else if (status != 200) {
        fprintf(stderr, "baseline_curl: HTTP %ld\n", status);
    } else if (stream) {
        rc = 0;
    } else {
        cJSON *root = cJSON_Parse(resp.data);
        cJSON *choices = cJSON_GetObjectItem(root, "choices");
        cJSON *message = cJSON_GetObjectItem(cJSON_GetArrayItem(choices, 0),
                                             "message");
        cJSON *content = cJSON_GetObjectItem(message, "content");
        if (cJSON_IsString(content)) {
            if (print) {
                fputs(content->valuestring, stdout);
            }
            rc = 0;
        } else {
            fprintf(stderr, "baseline_curl: no content in the answer\n");
        }
        cJSON_Delete(root);
    }
    free(resp.data);
    free(body);
    curl_slist_free_all(headers);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: baseline_curl [--stream] [-n N] [--ca FILE] "
            "[--base-url URL] [--model M] [--times] PROMPT\n");
    return 1;
}

int main(int argc, char **argv)
{
    const char *base_url = "https://api.cometapi.com/v1";
    const char *ca = NULL;
    const char *model = "gpt-4-0314";
    const char *prompt = NULL;
    const char *key = getenv("COMETAPI_KEY");
    int stream = 0;
    long n = 1;
    long i;
    int argi;
    int rc = 0;
    char url[1024];
    struct stream_state ss;
    uint64_t t0;
    CURL *curl;

    memset(&ss, 0, sizeof ss);
    for (argi = 1; argi < argc; argi++) {
        const char *a = argv[argi];
        int more = argi + 1 < argc;
        if (strcmp(a, "--stream") == 0) {
            stream = 1;
        } else if (strcmp(a, "--times") == 0) {
            ss.times = 1;
        } else if (strcmp(a, "-n") == 0 && more) {
            n = strtol(argv[++argi], NULL, 10);
        } else if (strcmp(a, "--ca") == 0 && more) {
            ca = argv[++argi];
        } else if (strcmp(a, "--base-url") == 0 && more) {
            base_url = argv[++argi];
        } else if (strcmp(a, "--model") == 0 && more) {
            model = argv[++argi];
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage();
        } else {
            prompt = a;
        }
    }
    if (prompt == NULL || n < 1) {
        return usage();
    }
    if (key == NULL || key[0] == '\0') {
        key = "test-key";
    }
    snprintf(url, sizeof url, "%s/chat/completions", base_url);

    bench_marks_init();
    /* a static stdout buffer: the application's own stdio must not show
     * up in the heap counts of either client */
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    t0 = mono_ns();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    if (curl == NULL) {
        return 1;
    }
    if (ca != NULL) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
        curl_easy_setopt(curl, CURLOPT_CAPATH, NULL); /* that file only */
    }
    ss.line.data = malloc(1);
    for (i = 1; i <= n && rc == 0; i++) {
        ss.req = i;
        ss.got_text = 0;
        ss.is_last = i == n;
        ss.line.len = 0;
        rc = chat(curl, url, key, model, prompt, stream, &ss, i == n);
        if (i == 1 || i == n) {
            bench_mark(i == 1 ? "first-request" : "kept-alive-requests");
        }
    }
    if (rc == 0) {
        fputc('\n', stdout);
        fflush(stdout);
    }
    if (ss.times) {
        fprintf(stderr, "elapsed_ns=%llu\n",
                (unsigned long long)(mono_ns() - t0));
    }
    free(ss.line.data);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return rc == 0 ? 0 : 1;
}
