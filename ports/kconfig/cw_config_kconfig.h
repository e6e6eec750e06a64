/*
 * cw_config_kconfig.h - chatwire's options from Kconfig (ESP-IDF's
 * menuconfig, Zephyr's): each CONFIG_CHATWIRE_<NAME> of Kconfig.options
 * becomes the chatwire_config.h macro it names. The ESP-IDF component and
 * the Zephyr module build with CW_CONFIG_FILE="cw_config_kconfig.h"; a
 * macro already defined on the command line wins.
 */
#ifndef CW_CONFIG_KCONFIG_H
#define CW_CONFIG_KCONFIG_H

#if defined(ESP_PLATFORM)
#include "sdkconfig.h"
#endif
/* Zephyr's build includes autoconf.h into every file (-imacros). */

#ifndef CONFIG_CHATWIRE_HTTP_MAX_LINE
#error "cw_config_kconfig.h: no CONFIG_CHATWIRE_* symbols: build with Kconfig (sdkconfig.h or autoconf.h) or drop CW_CONFIG_FILE"
#endif

/* Kconfig leaves a bool that is off undefined: 0 then. */
#ifndef CW_CONFIG_RETRIES
#ifdef CONFIG_CHATWIRE_RETRIES
#define CW_CONFIG_RETRIES 1
#else
#define CW_CONFIG_RETRIES 0
#endif
#endif

#ifndef CW_CONFIG_RATELIMIT_HEADERS
#ifdef CONFIG_CHATWIRE_RATELIMIT_HEADERS
#define CW_CONFIG_RATELIMIT_HEADERS 1
#else
#define CW_CONFIG_RATELIMIT_HEADERS 0
#endif
#endif

#ifndef CW_CONFIG_STATUS_TEXT
#ifdef CONFIG_CHATWIRE_STATUS_TEXT
#define CW_CONFIG_STATUS_TEXT 1
#else
#define CW_CONFIG_STATUS_TEXT 0
#endif
#endif

#ifndef CW_CONFIG_DETAIL
#ifdef CONFIG_CHATWIRE_DETAIL
#define CW_CONFIG_DETAIL 1
#else
#define CW_CONFIG_DETAIL 0
#endif
#endif

#ifndef CW_CONFIG_TOOLS
#ifdef CONFIG_CHATWIRE_TOOLS
#define CW_CONFIG_TOOLS 1
#else
#define CW_CONFIG_TOOLS 0
#endif
#endif

#ifndef CW_CONFIG_REQUEST_OPTIONS
#ifdef CONFIG_CHATWIRE_REQUEST_OPTIONS
#define CW_CONFIG_REQUEST_OPTIONS 1
#else
#define CW_CONFIG_REQUEST_OPTIONS 0
#endif
#endif

#ifndef CW_CONFIG_CONTENT_PARTS
#ifdef CONFIG_CHATWIRE_CONTENT_PARTS
#define CW_CONFIG_CONTENT_PARTS 1
#else
#define CW_CONFIG_CONTENT_PARTS 0
#endif
#endif

#ifndef CW_CONFIG_REASONING
#ifdef CONFIG_CHATWIRE_REASONING
#define CW_CONFIG_REASONING 1
#else
#define CW_CONFIG_REASONING 0
#endif
#endif

#ifndef CW_CONFIG_HTTP_FAST_PATHS
#ifdef CONFIG_CHATWIRE_HTTP_FAST_PATHS
#define CW_CONFIG_HTTP_FAST_PATHS 1
#else
#define CW_CONFIG_HTTP_FAST_PATHS 0
#endif
#endif

#ifndef CW_CONFIG_STREAM_FAST_PATHS
#ifdef CONFIG_CHATWIRE_STREAM_FAST_PATHS
#define CW_CONFIG_STREAM_FAST_PATHS 1
#else
#define CW_CONFIG_STREAM_FAST_PATHS 0
#endif
#endif

/* Sizes and times: Kconfig writes plain decimal ints. */
#ifndef CW_HTTP_MAX_LINE
#define CW_HTTP_MAX_LINE (CONFIG_CHATWIRE_HTTP_MAX_LINE + 0u)
#endif
#ifndef CW_HTTP_MAX_HEADER_SECTION
#define CW_HTTP_MAX_HEADER_SECTION (CONFIG_CHATWIRE_HTTP_MAX_HEADER_SECTION + 0u)
#endif
#ifndef CW_HEADER_VALUE_MAX
#define CW_HEADER_VALUE_MAX (CONFIG_CHATWIRE_HEADER_VALUE_MAX + 0u)
#endif
#ifndef CW_FIELD_MAX
#define CW_FIELD_MAX (CONFIG_CHATWIRE_FIELD_MAX + 0u)
#endif
#ifndef CW_DETAIL_MAX
#define CW_DETAIL_MAX (CONFIG_CHATWIRE_DETAIL_MAX + 0u)
#endif
#ifndef CW_ERROR_MESSAGE_MAX
#define CW_ERROR_MESSAGE_MAX (CONFIG_CHATWIRE_ERROR_MESSAGE_MAX + 0u)
#endif
#ifndef CW_TOOL_ID_MAX
#define CW_TOOL_ID_MAX (CONFIG_CHATWIRE_TOOL_ID_MAX + 0u)
#endif
#ifndef CW_TOOL_NAME_MAX
#define CW_TOOL_NAME_MAX (CONFIG_CHATWIRE_TOOL_NAME_MAX + 0u)
#endif
#ifndef CW_JSON_MAX_TOKENS
#define CW_JSON_MAX_TOKENS (CONFIG_CHATWIRE_JSON_MAX_TOKENS + 0u)
#endif
#ifndef CW_DEFAULT_TIMEOUT_MS
#define CW_DEFAULT_TIMEOUT_MS (CONFIG_CHATWIRE_DEFAULT_TIMEOUT_MS + 0u)
#endif
#ifndef CW_DEFAULT_CONNECT_TIMEOUT_MS
#define CW_DEFAULT_CONNECT_TIMEOUT_MS (CONFIG_CHATWIRE_DEFAULT_CONNECT_TIMEOUT_MS + 0u)
#endif
#ifndef CW_DEFAULT_IDLE_TIMEOUT_MS
#define CW_DEFAULT_IDLE_TIMEOUT_MS (CONFIG_CHATWIRE_DEFAULT_IDLE_TIMEOUT_MS + 0u)
#endif
/* The retry symbols exist only with CONFIG_CHATWIRE_RETRIES. */
#if defined(CONFIG_CHATWIRE_DEFAULT_MAX_RETRIES) && !defined(CW_DEFAULT_MAX_RETRIES)
#define CW_DEFAULT_MAX_RETRIES CONFIG_CHATWIRE_DEFAULT_MAX_RETRIES
#endif
#if defined(CONFIG_CHATWIRE_RETRY_INITIAL_DELAY_MS) && !defined(CW_RETRY_INITIAL_DELAY_MS)
#define CW_RETRY_INITIAL_DELAY_MS (CONFIG_CHATWIRE_RETRY_INITIAL_DELAY_MS + 0u)
#endif
#if defined(CONFIG_CHATWIRE_RETRY_MAX_DELAY_MS) && !defined(CW_RETRY_MAX_DELAY_MS)
#define CW_RETRY_MAX_DELAY_MS (CONFIG_CHATWIRE_RETRY_MAX_DELAY_MS + 0u)
#endif
#if defined(CONFIG_CHATWIRE_RETRY_AFTER_MAX_MS) && !defined(CW_RETRY_AFTER_MAX_MS)
#define CW_RETRY_AFTER_MAX_MS (CONFIG_CHATWIRE_RETRY_AFTER_MAX_MS + 0u)
#endif
#ifndef CW_DEFAULT_BASE_URL
#define CW_DEFAULT_BASE_URL CONFIG_CHATWIRE_DEFAULT_BASE_URL
#endif
#ifndef CW_DEFAULT_MODEL
#define CW_DEFAULT_MODEL CONFIG_CHATWIRE_DEFAULT_MODEL
#endif

#endif /* CW_CONFIG_KCONFIG_H */
