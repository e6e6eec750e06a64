/*
 * test_tools_response.c - tool calls and reasoning text as real servers
 * send them, through the whole client: streams in the shapes of OpenAI,
 * Azure, vLLM, llama.cpp, OpenRouter, Kimi, DeepSeek, Qwen/DashScope,
 * Ollama, Gemini's compatibility endpoint, Groq, Mistral, SGLang, LiteLLM
 * and the GLM API (each quirk is named where it is used), and the
 * non-streamed forms. Each one is served whole, split at every offset,
 * byte by byte, and in odd slices with "try again" between them; the
 * outcome (status, calls with id, type, name, arguments, text, reasoning,
 * usage) must be the same every time, and the expected one.
 */
#include "cw_internal.h"
#include "cw_test.h"
#include "fake_transport.h"

#if CW_CONFIG_TOOLS && CW_CONFIG_REASONING && CW_CONFIG_DETAIL

static fake_t fake;
static cw_client_t client;
static uint8_t io_buf[256];
static uint8_t work_buf[8192];
static uint8_t response[32768];

typedef struct sink {
    char text[4096];
    size_t len;
    bool split_utf8;
} sink_t;

static sink_t content;
static sink_t reasoning;
static char frags[4096]; /* what on_tool_args heard: "k:text|" */
static size_t frags_len;

static int to_sink(void *user, const char *text, size_t len)
{
    sink_t *s = (sink_t *)user;
    if (len == 0u || cw_utf8_tail(text, len) != 0u ||
        ((uint8_t)text[0] & 0xc0u) == 0x80u) {
        s->split_utf8 = true;
    }
    if (s->len + len < sizeof s->text) {
        memcpy(s->text + s->len, text, len);
        s->len += len;
        s->text[s->len] = '\0';
    }
    return 0;
}

static int on_args(void *user, size_t call, const char *text, size_t len)
{
    (void)user;
    frags_len += (size_t)snprintf(frags + frags_len, sizeof frags - frags_len,
                                  "%zu:%.*s|", call, (int)len, text);
    return 0;
}

/* A readable JSON: ' for ", and ` for \" inside strings. */
static size_t unquote(const char *in, char *out)
{
    size_t n = 0;
    for (; *in != '\0'; in++) {
        if (*in == '\'') {
            out[n++] = '"';
        } else if (*in == '`') {
            out[n++] = '\\';
            out[n++] = '"';
        } else {
            out[n++] = *in;
        }
    }
    out[n] = '\0';
    return n;
}

/* An HTTP response carrying the events (stream) or the body. */
static size_t build(const char *const *events, bool stream)
{
    static char body[16384];
    size_t n = 0;
    size_t i;

    for (i = 0; events[i] != NULL; i++) {
        if (stream) {
            memcpy(body + n, "data: ", 6);
            n += 6;
        }
        n += unquote(events[i], body + n);
        if (stream) {
            memcpy(body + n, "\n\n", 2);
            n += 2;
        }
    }
    return (size_t)sprintf((char *)response,
                           "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                           "Content-Length: %zu\r\n\r\n%s",
                           stream ? "text/event-stream" : "application/json",
                           n, body);
}

typedef struct scenario {
    const char *name;
    bool stream;
    size_t max_calls;   /* storage: calls (0: none given) */
    size_t args_size;   /* storage: arguments bytes */
    bool offer_tools;   /* the request offers a tool */
    const char *const *events;
    const char *want;   /* the outcome, as describe() writes it */
} scenario_t;

static cw_tool_call_t calls[8];
static char args[1024];

static void describe(char *out, size_t cap, int rc, const cw_result_t *r,
                     size_t max_calls)
{
    size_t n = (size_t)snprintf(out, cap, "rc=%d n=%u names=[%s]", rc,
                                (unsigned)r->tool_calls, r->tool_names);
    size_t k;

    for (k = 0; k < r->tool_calls && k < max_calls; k++) {
        const cw_tool_call_t *c = &calls[k];
        n += (size_t)snprintf(out + n, cap - n, " {%u %s %s %s %s%s}",
                              (unsigned)c->index, c->id, c->type, c->name,
                              c->arguments != NULL ? c->arguments : "(null)",
                              c->cut ? " cut" : "");
        if (c->arguments != NULL && strlen(c->arguments) != c->arguments_len) {
            n += (size_t)snprintf(out + n, cap - n, " BADLEN");
        }
    }
    if (content.len > 0u || r->content != NULL) {
        n += (size_t)snprintf(out + n, cap - n, " text=%s",
                              r->content != NULL ? r->content : content.text);
    }
    if (reasoning.len > 0u) {
        n += (size_t)snprintf(out + n, cap - n, " reasoning=%s",
                              reasoning.text);
    }
    if (r->reasoning_tokens >= 0 || r->cached_tokens >= 0) {
        n += (size_t)snprintf(out + n, cap - n, " rt=%lld ct=%lld",
                              (long long)r->reasoning_tokens,
                              (long long)r->cached_tokens);
    }
    if (rc != CW_OK && r->detail[0] != '\0') {
        n += (size_t)snprintf(out + n, cap - n, " detail=%s", r->detail);
    }
    if (r->needed > 0u && r->needed % sizeof(cw_tool_call_t) == 0u &&
        r->needed / sizeof(cw_tool_call_t) == r->tool_calls) {
        n += (size_t)snprintf(out + n, cap - n, " needed=%u calls",
                              (unsigned)r->tool_calls);
    } else if (r->needed > 0u) {
        n += (size_t)snprintf(out + n, cap - n, " needed=%zu", r->needed);
    }
    if (content.split_utf8 || reasoning.split_utf8) {
        snprintf(out + n, cap - n, " SPLIT-UTF8");
    }
}

static void run_once(const scenario_t *s, size_t len, const size_t *sizes,
                     size_t nsizes, bool would_block, char *desc, size_t cap)
{
    cw_client_config_t cfg;
    cw_chat_request_t req;
    cw_result_t res;
    cw_tool_t tool;
    int rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = fake_transport(&fake);
    cfg.base_url = "https://api.example.com/v1";
    cfg.api_key = "k";
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.timeout_ms = 5000;
    cfg.max_retries = CW_NO_RETRIES;
    cw_client_init(&client, &cfg);
    fake_reset(&fake, response, len);
    fake.sizes = sizes;
    fake.nsizes = nsizes;
    fake.would_block = would_block;
    memset(&content, 0, sizeof content);
    memset(&reasoning, 0, sizeof reasoning);
    memset(calls, 0x5a, sizeof calls); /* storage starts dirty */
    memset(args, 0x5a, sizeof args);
    frags_len = 0;
    frags[0] = '\0';
    memset(&tool, 0, sizeof tool);
    tool.name = "set_led";
    cw_chat_request_init(&req, (const cw_message_t *)"\0", 0);
    {
        static const cw_message_t m[] = { { "user", "LED on; how warm?" } };
        req.messages = m;
        req.message_count = 1;
    }
    req.stream = s->stream;
    req.on_delta = to_sink;
    req.on_delta_user = &content;
    req.on_reasoning = to_sink;
    req.on_reasoning_user = &reasoning;
    if (s->offer_tools) {
        req.tools = &tool;
        req.tool_count = 1;
    }
    if (s->max_calls > 0u) {
        req.tool_call_buf = calls;
        req.tool_call_max = s->max_calls;
        req.tool_args = args;
        req.tool_args_size = s->args_size;
        req.on_tool_args = on_args;
    }
    rc = cw_chat(&client, &req, &res);
    describe(desc, cap, rc, &res, s->max_calls);
}

static void check(const scenario_t *s)
{
    static char base[8192];
    static char desc[8192];
    static char base_frags[4096];
    static const size_t odd[] = { 3, 0, 1, 7, 0, 64, 2 };
    static const size_t one[] = { 1 };
    size_t len = build(s->events, s->stream);
    size_t k;

    run_once(s, len, NULL, 0, false, base, sizeof base);
    memcpy(base_frags, frags, frags_len + 1u);
    if (strcmp(base, s->want) != 0) {
        fprintf(stderr, "%s:\n  got  %s\n  want %s\n", s->name, base,
                s->want);
        cw_test_failures++;
        return;
    }
    for (k = 1; k < len; k++) {
        size_t sizes[2] = { k, len };
        run_once(s, len, sizes, 2, false, desc, sizeof desc);
        if (strcmp(desc, base) != 0 || strcmp(frags, base_frags) != 0) {
            fprintf(stderr, "%s split at %zu:\n  got  %s\n  want %s\n",
                    s->name, k, desc, base);
            cw_test_failures++;
            return;
        }
    }
    run_once(s, len, one, 1, false, desc, sizeof desc);
    if (strcmp(desc, base) != 0 || strcmp(frags, base_frags) != 0) {
        fprintf(stderr, "%s byte by byte:\n  got  %s\n  want %s\n", s->name,
                desc, base);
        cw_test_failures++;
    }
    run_once(s, len, odd, sizeof odd / sizeof odd[0], true, desc,
             sizeof desc);
    if (strcmp(desc, base) != 0 || strcmp(frags, base_frags) != 0) {
        fprintf(stderr, "%s odd slices:\n  got  %s\n  want %s\n", s->name,
                desc, base);
        cw_test_failures++;
    }
}

/* ------------------------------------------------------------ shapes */

#define CH(delta) "{'choices':[{'index':0,'delta':" delta ",'finish_reason':null}]}"
#define FIN(reason) "{'choices':[{'index':0,'delta':{},'finish_reason':'" reason "'}]}"

/* OpenAI (recorded gpt-4o stream): id, type and name on the first
 * fragment with arguments "", continuations with index alone; two
 * parallel calls one after the other; usage after the finish. */
static const char *const openai_parallel[] = {
    CH("{'role':'assistant','content':null,'tool_calls':[{'index':0,'id':'call_a','type':'function','function':{'name':'set_led','arguments':''}}]}"),
    CH("{'tool_calls':[{'index':0,'function':{'arguments':'{`on`'}}]}"),
    CH("{'tool_calls':[{'index':0,'function':{'arguments':':true}'}}]}"),
    CH("{'tool_calls':[{'index':1,'id':'call_b','type':'function','function':{'name':'read_temperature','arguments':''}}]}"),
    CH("{'tool_calls':[{'index':1,'function':{'arguments':'{}'}}]}"),
    FIN("tool_calls"),
    "{'choices':[],'usage':{'prompt_tokens':50,'completion_tokens':30,'total_tokens':80,'prompt_tokens_details':{'cached_tokens':12},'completion_tokens_details':{'reasoning_tokens':0}}}",
    "[DONE]", NULL
};

/* The same calls with their fragments interleaved (0, 1, 0, 1): the
 * arguments of call 0 grow after call 1's have begun. */
static const char *const interleaved[] = {
    CH("{'tool_calls':[{'index':0,'id':'call_a','type':'function','function':{'name':'set_led','arguments':'{`on`'}}]}"),
    CH("{'tool_calls':[{'index':1,'id':'call_b','type':'function','function':{'name':'read_temperature','arguments':'{'}}]}"),
    CH("{'tool_calls':[{'index':0,'function':{'arguments':':true}'}}]}"),
    CH("{'tool_calls':[{'index':1,'function':{'arguments':'}'}}]}"),
    FIN("tool_calls"), "[DONE]", NULL
};

/* Several calls in one delta's array (Gemini through LiteLLM). */
static const char *const one_delta_many[] = {
    CH("{'tool_calls':[{'index':0,'id':'call_a','type':'function','function':{'name':'set_led','arguments':'{`on`:true}'}},{'index':1,'id':'call_b','type':'function','function':{'name':'read_temperature','arguments':'{}'}}]}"),
    FIN("tool_calls"), "[DONE]", NULL
};

/* Qwen/DashScope (recorded): continuations with "id":"" and the type
 * repeated, a trailing fragment with empty arguments, one with null, and
 * a choice without finish_reason until the end. */
static const char *const qwen[] = {
    "{'choices':[{'index':0,'delta':{'role':'assistant','tool_calls':[{'index':0,'id':'call_q1','type':'function','function':{'name':'set_led','arguments':'{`on`: '}}]}}]}",
    "{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'id':'','type':'function','function':{'arguments':'true}'}}]}}]}",
    "{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'id':'','type':'function','function':{'arguments':''}}]}}]}",
    "{'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'id':'','type':'function','function':{'arguments':null}}]}}]}",
    FIN("tool_calls"), "[DONE]", NULL
};

/* DashScope GLM and SGLang: continuations with "id":"" and "name":"",
 * or with explicit nulls. */
static const char *const blank_continuations[] = {
    CH("{'tool_calls':[{'index':0,'id':'call_g','type':'function','function':{'name':'set_led','arguments':'{`on`'}}]}"),
    CH("{'tool_calls':[{'index':0,'id':'','type':'function','function':{'name':'','arguments':':'}}]}"),
    CH("{'tool_calls':[{'index':0,'id':null,'type':null,'function':{'name':null,'arguments':'false}'}}]}"),
    FIN("tool_calls"), "[DONE]", NULL
};

/* LiteLLM repeats the id on every fragment, vLLM forks the name too: they
 * must not be joined. SGLang's ids "0", "1" repeated likewise. */
static const char *const repeated_ids[] = {
    CH("{'tool_calls':[{'index':0,'id':'0','type':'function','function':{'name':'set_led','arguments':'{`on`'}}]}"),
    CH("{'tool_calls':[{'index':0,'id':'0','type':'function','function':{'name':'set_led','arguments':':true}'}}]}"),
    CH("{'tool_calls':[{'index':1,'id':'1','type':'function','function':{'name':'read_temperature','arguments':'{}'}}]}"),
    CH("{'tool_calls':[{'index':1,'id':'1','type':'function','function':{'name':'read_temperature','arguments':''}}]}"),
    FIN("tool_calls"), "[DONE]", NULL
};

/* Ollama (recorded): each call whole in one chunk; then the 2026 bug
 * where every call has index 0, told apart by their ids. */
static const char *const ollama_index0[] = {
    CH("{'role':'assistant','content':'','tool_calls':[{'id':'call_x1','index':0,'type':'function','function':{'name':'set_led','arguments':'{`on`:true}'}}]}"),
    CH("{'role':'assistant','content':'','tool_calls':[{'id':'call_x2','index':0,'type':'function','function':{'name':'read_temperature','arguments':'{}'}}]}"),
    FIN("tool_calls"), "[DONE]", NULL
};

/* Gemini's compatibility endpoint: no index, each call whole in a delta,
 * and the stream ends with "stop", not "tool_calls". */
static const char *const gemini[] = {
    CH("{'role':'assistant','tool_calls':[{'function':{'arguments':'{`on`:true}','name':'set_led'},'id':'function-call-1','type':'function'}]}"),
    CH("{'role':'assistant','tool_calls':[{'function':{'arguments':'{}','name':'read_temperature'},'id':'function-call-2','type':'function'}]}"),
    FIN("stop"), "[DONE]", NULL
};

/* Calls numbered from 1 after some text (an Anthropic-backed gateway),
 * and a server whose continuations carry a new index and nothing else
 * (Nebius/Cerebras). */
static const char *const from_one[] = {
    CH("{'content':'Sure. '}"),
    CH("{'tool_calls':[{'index':1,'id':'toolu_01','type':'function','function':{'name':'set_led','arguments':''}}]}"),
    CH("{'tool_calls':[{'index':1,'function':{'arguments':'{`on`'}}]}"),
    CH("{'tool_calls':[{'index':2,'function':{'arguments':':true}'}}]}"),
    FIN("tool_calls"), "[DONE]", NULL
};

/* Mistral: the whole call, the finish and the usage in one chunk, with no
 * index and no type. */
static const char *const mistral[] = {
    CH("{'role':'assistant','content':''}"),
    "{'choices':[{'index':0,'delta':{'tool_calls':[{'id':'D681PevKs','function':{'name':'set_led','arguments':'{`on`: true}'}}]},'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':80,'total_tokens':100,'completion_tokens':20}}",
    "[DONE]", NULL
};

/* The GLM-4.5 API: index -1, the arguments as a JSON object, inside the
 * finish chunk. */
static const char *const glm_object[] = {
    "{'choices':[{'index':0,'finish_reason':'tool_calls','delta':{'tool_calls':[{'id':'call_WiwAl','index':-1,'type':'function','function':{'name':'set_led','arguments':{ 'on' : true, 'note': 'a \\\\ b `x` {}' }}}]}}]}",
    "[DONE]", NULL
};

/* Kimi ids ("functions.name:N"), a zero-argument tool whose fragments are
 * all "", and the name with the first fragment in the role's delta. */
static const char *const kimi[] = {
    CH("{'role':'assistant','content':null,'tool_calls':[{'index':0,'id':'functions.read_temperature:0','type':'function','function':{'name':'read_temperature','arguments':''}}]}"),
    CH("{'tool_calls':[{'index':0,'function':{'arguments':''}}]}"),
    FIN("tool_calls"), "[DONE]", NULL
};

/* The answer reached max_tokens inside a call's arguments. */
static const char *const cut_by_length[] = {
    CH("{'tool_calls':[{'index':0,'id':'call_c','type':'function','function':{'name':'set_led','arguments':'{`on'}}]}"),
    FIN("length"), "[DONE]", NULL
};

/* DeepSeek reasoner: reasoning_content before the answer; then a call
 * (reasoning followed by tool calls in one stream). */
static const char *const deepseek[] = {
    CH("{'role':'assistant','content':null,'reasoning_content':'The user '}"),
    CH("{'content':null,'reasoning_content':'wants light.'}"),
    CH("{'tool_calls':[{'index':0,'id':'call_d','type':'function','function':{'name':'set_led','arguments':'{`on`:true}'}}]}"),
    "{'choices':[{'index':0,'delta':{'content':''},'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':10,'completion_tokens':20,'total_tokens':30,'prompt_tokens_details':{'cached_tokens':0},'completion_tokens_details':{'reasoning_tokens':15}}}",
    "[DONE]", NULL
};

/* OpenRouter: reasoning and reasoning_details with the same text (counted
 * once), an encrypted detail and an empty list (no text), then content. */
static const char *const openrouter[] = {
    CH("{'role':'assistant','content':'','reasoning':null,'reasoning_details':[]}"),
    CH("{'role':'assistant','content':'','reasoning':'This','reasoning_details':[{'type':'reasoning.text','text':'This','format':'anthropic-claude-v1','index':0}]}"),
    CH("{'role':'assistant','content':'','reasoning':null,'reasoning_details':[{'type':'reasoning.encrypted','data':'gAAAAB','id':'rs_0a','format':'openai-responses-v1','index':0}]}"),
    CH("{'role':'assistant','content':'','reasoning_details':[{'type':'reasoning.text','text':' is'},{'type':'reasoning.text','text':' it.'}]}"),
    CH("{'role':'assistant','content':'It is \\u00e9'}"),
    FIN("stop"), "[DONE]", NULL
};

/* Groq: delta.reasoning, and reasoning and content in one delta (vLLM's
 * DeepSeek parser). */
static const char *const groq[] = {
    CH("{'reasoning':'Hm','channel':'analysis'}"),
    CH("{'reasoning':'m.','content':'Yes'}"),
    FIN("stop"), "[DONE]", NULL
};

/* A server that calls a tool though the request offered none. */
static const char *const unasked[] = {
    CH("{'tool_calls':[{'index':0,'id':'call_u','type':'function','function':{'name':'set_led','arguments':'{}'}}]}"),
    FIN("tool_calls"), "[DONE]", NULL
};

/* Non-streamed: message.tool_calls without index (and, Mistral, without
 * type); content null; reasoning_content beside. */
static const char *const whole[] = {
    "{'id':'chatcmpl-1','choices':[{'index':0,'message':{'role':'assistant','content':null,'reasoning_content':'Two tools.','tool_calls':[{'id':'call_a','type':'function','function':{'name':'set_led','arguments':'{`on`:true}'}},{'id':'call_b','function':{'name':'read_temperature','arguments':'{}'}}]},'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':5,'completion_tokens':6,'total_tokens':11}}",
    NULL
};

/* Non-streamed, with arguments as an object (TGI, a llama.cpp build). */
static const char *const whole_object[] = {
    "{'choices':[{'index':0,'message':{'role':'assistant','content':'','tool_calls':[{'id':'0','type':'function','function':{'name':'set_led','arguments':{'on': false}}}]},'finish_reason':'tool_calls'}]}",
    NULL
};

static const scenario_t scenarios[] = {
    { "openai parallel", true, 8, 1024, true, openai_parallel,
      "rc=0 n=2 names=[set_led, read_temperature]"
      " {0 call_a function set_led {\"on\":true}}"
      " {1 call_b function read_temperature {}} rt=0 ct=12" },
    { "interleaved", true, 8, 1024, true, interleaved,
      "rc=0 n=2 names=[set_led, read_temperature]"
      " {0 call_a function set_led {\"on\":true}}"
      " {1 call_b function read_temperature {}}" },
    { "one delta, two calls", true, 8, 1024, true, one_delta_many,
      "rc=0 n=2 names=[set_led, read_temperature]"
      " {0 call_a function set_led {\"on\":true}}"
      " {1 call_b function read_temperature {}}" },
    { "qwen", true, 8, 1024, true, qwen,
      "rc=0 n=1 names=[set_led] {0 call_q1 function set_led {\"on\": true}}" },
    { "blank continuations", true, 8, 1024, true, blank_continuations,
      "rc=0 n=1 names=[set_led] {0 call_g function set_led {\"on\":false}}" },
    { "repeated ids and names", true, 8, 1024, true, repeated_ids,
      "rc=0 n=2 names=[set_led, read_temperature]"
      " {0 0 function set_led {\"on\":true}}"
      " {1 1 function read_temperature {}}" },
    { "ollama index 0", true, 8, 1024, true, ollama_index0,
      "rc=0 n=2 names=[set_led, read_temperature]"
      " {0 call_x1 function set_led {\"on\":true}}"
      " {0 call_x2 function read_temperature {}}" },
    { "gemini", true, 8, 1024, true, gemini,
      "rc=0 n=2 names=[set_led, read_temperature]"
      " {0 function-call-1 function set_led {\"on\":true}}"
      " {1 function-call-2 function read_temperature {}}" },
    { "from one", true, 8, 1024, true, from_one,
      "rc=0 n=1 names=[set_led] {1 toolu_01 function set_led {\"on\":true}}"
      " text=Sure. " },
    { "mistral", true, 8, 1024, true, mistral,
      "rc=0 n=1 names=[set_led] {0 D681PevKs  set_led {\"on\": true}}" },
    { "glm object", true, 8, 1024, true, glm_object,
      "rc=0 n=1 names=[set_led] {0 call_WiwAl function set_led"
      " {\"on\":true,\"note\":\"a \\\\ b \\\"x\\\" {}\"}}" },
    { "kimi", true, 8, 1024, true, kimi,
      "rc=0 n=1 names=[read_temperature]"
      " {0 functions.read_temperature:0 function read_temperature }" },
    { "cut by length", true, 8, 1024, true, cut_by_length,
      "rc=-18 n=1 names=[set_led] {0 call_c function set_led {\"on cut}"
      " detail=the answer reached its token limit (finish_reason length)"
      " in the middle of tool call 0: raise max_tokens or"
      " max_completion_tokens" },
    { "deepseek", true, 8, 1024, true, deepseek,
      "rc=0 n=1 names=[set_led] {0 call_d function set_led {\"on\":true}}"
      " reasoning=The user wants light. rt=15 ct=0" },
    { "openrouter reasoning", true, 8, 1024, false, openrouter,
      "rc=0 n=0 names=[] text=It is \xc3\xa9 reasoning=This is it." },
    { "groq reasoning", true, 0, 0, false, groq,
      "rc=0 n=0 names=[] text=Yes reasoning=Hmm." },
    { "tools not offered", true, 0, 0, false, unasked,
      "rc=-22 n=1 names=[set_led]" },
    { "counted without storage", true, 0, 0, true, openai_parallel,
      "rc=0 n=2 names=[set_led, read_temperature] rt=0 ct=12" },
    { "too few calls of storage", true, 1, 1024, true, openai_parallel,
      "rc=-3 n=2 names=[set_led, read_temperature]"
      " {0 call_a function set_led {\"on\":true}} rt=0 ct=12"
      " detail=the answer has 2 tool calls, more than tool_call_max (1)"
      " needed=2 calls" },
    { "too few argument bytes", true, 8, 12, true, openai_parallel,
      "rc=-3 n=2 names=[set_led, read_temperature]"
      " {0 call_a function set_led {\"on\":true}}"
      " {1 call_b function read_temperature (null)} rt=0 ct=12"
      " detail=the tool calls' arguments need 15 bytes (with a NUL each),"
      " more than tool_args_size (12) needed=15" },
    { "whole", false, 8, 1024, true, whole,
      "rc=0 n=2 names=[set_led, read_temperature]"
      " {0 call_a function set_led {\"on\":true}}"
      " {1 call_b  read_temperature {}} reasoning=Two tools." },
    { "whole, object arguments", false, 8, 1024, true, whole_object,
      "rc=0 n=1 names=[set_led] {0 0 function set_led {\"on\":false}}"
      " text=" },
};

TEST(test_tool_call_shapes_of_real_servers)
{
    size_t i;
    for (i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        check(&scenarios[i]);
    }
}

TEST(test_argument_fragments_reach_the_callback_in_order)
{
    size_t len = build(openai_parallel, true);
    char desc[4096];
    run_once(&scenarios[0], len, NULL, 0, false, desc, sizeof desc);
    CHECK_EQ_STR(frags, "0:{\"on\"|0::true}|1:{}|");
    len = build(interleaved, true);
    run_once(&scenarios[1], len, NULL, 0, false, desc, sizeof desc);
    CHECK_EQ_STR(frags, "0:{\"on\"|1:{|0::true}|1:}|");
}

static const cw_test_case_t tests[] = {
    T(test_tool_call_shapes_of_real_servers),
    T(test_argument_fragments_reach_the_callback_in_order),
};
#else
/* Tools or reasoning left out of this build: a stream that calls tools is
 * still named as such, and reasoning text never becomes content. */
static fake_t fake;
static cw_client_t client;
static uint8_t io_buf[256];
static uint8_t work_buf[8192];

static int count_text(void *user, const char *text, size_t len)
{
    (void)text;
    *(size_t *)user += len;
    return 0;
}

static int serve(const char *resp, size_t *text)
{
    cw_client_config_t cfg;
    cw_chat_request_t req;
    cw_result_t res;
    static const cw_message_t m[] = { { "user", "hi" } };

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = fake_transport(&fake);
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.max_retries = CW_NO_RETRIES;
    cw_client_init(&client, &cfg);
    fake_reset(&fake, (const uint8_t *)resp, strlen(resp));
    cw_chat_request_init(&req, m, 1);
    req.stream = true;
    req.on_delta = count_text;
    req.on_delta_user = text;
    *text = 0;
    return cw_chat(&client, &req, &res);
}

TEST(test_left_out_features_still_say_what_the_answer_was)
{
    static const char calls[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        "Content-Length: 176\r\n\r\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
        "\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},"
        "\"finish_reason\":\"tool_calls\"}]}\n\n";
    static const char thinking[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        "Content-Length: 150\r\n\r\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":"
        "\"hmm\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},"
        "\"finish_reason\":\"stop\"}]}\n\n";
    size_t text = 0;

    CHECK_EQ_INT(serve(calls, &text), CW_ERR_TOOL_CALLS);
    CHECK_EQ_INT(serve(thinking, &text), CW_OK);
    CHECK_EQ_INT(text, 2); /* "ok": the reasoning is not the answer */
}
static const cw_test_case_t tests[] = {
    T(test_left_out_features_still_say_what_the_answer_was)
};
#endif

CW_TEST_MAIN(tests)
