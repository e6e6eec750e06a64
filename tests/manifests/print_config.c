/*
 * print_config.c - prints the value every chatwire_config.h option has in
 * the build that compiles it, one NAME=VALUE per line: check.py compares
 * them with the Kconfig values that were asked for.
 */
#include "chatwire.h"

#include <stdio.h>

#define NUM(x) printf("%s=%lu\n", #x, (unsigned long)(x))
#define STR(x) printf("%s=%s\n", #x, x)

int main(void)
{
    NUM(CW_CONFIG_RETRIES);
    NUM(CW_CONFIG_RATELIMIT_HEADERS);
    NUM(CW_CONFIG_STATUS_TEXT);
    NUM(CW_CONFIG_DETAIL);
    NUM(CW_CONFIG_TOOLS);
    NUM(CW_CONFIG_REQUEST_OPTIONS);
    NUM(CW_CONFIG_HTTP_FAST_PATHS);
    NUM(CW_CONFIG_STREAM_FAST_PATHS);
    NUM(CW_CONFIG_NONBLOCKING);
    NUM(CW_CONFIG_CONTENT_PARTS);
    NUM(CW_CONFIG_REASONING);
    NUM(CW_TOOL_ID_MAX);
    NUM(CW_TOOL_NAME_MAX);
    NUM(CW_HTTP_MAX_LINE);
    NUM(CW_HTTP_MAX_HEADER_SECTION);
    NUM(CW_HEADER_VALUE_MAX);
    NUM(CW_FIELD_MAX);
    NUM(CW_DETAIL_MAX);
    NUM(CW_ERROR_MESSAGE_MAX);
    NUM(CW_JSON_MAX_TOKENS);
    NUM(CW_DEFAULT_TIMEOUT_MS);
    NUM(CW_DEFAULT_CONNECT_TIMEOUT_MS);
    NUM(CW_DEFAULT_IDLE_TIMEOUT_MS);
    NUM(CW_DEFAULT_MAX_RETRIES);
    NUM(CW_RETRY_INITIAL_DELAY_MS);
    NUM(CW_RETRY_MAX_DELAY_MS);
    NUM(CW_RETRY_AFTER_MAX_MS);
    STR(CW_DEFAULT_BASE_URL);
    STR(CW_DEFAULT_MODEL);
    /* and that the sizes reach the structures */
    NUM(sizeof(((cw_result_t *)0)->detail));
    NUM(sizeof(((cw_result_t *)0)->error.message));
    return 0;
}
