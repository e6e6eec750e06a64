/*
 * cw_config_small.h - chatwire's smallest build, for the firmware
 * (CW_CONFIG_FILE). Every feature chatwire_config.h lets you compile out is
 * out: no retries (one UART stream cannot reconnect anyway), no rate-limit
 * headers, numbers instead of cw_strerror texts, no HTTP or JSON fast
 * paths.
 * scripts/mcu-size.sh measures chatwire's own flash in this build; the
 * table it prints also gives the default build, with everything in.
 */
#ifndef CW_CONFIG_SMALL_H
#define CW_CONFIG_SMALL_H

#define CW_CONFIG_RETRIES 0
#define CW_CONFIG_RATELIMIT_HEADERS 0
#define CW_CONFIG_STATUS_TEXT 0
#define CW_CONFIG_HTTP_FAST_PATHS 0
#define CW_CONFIG_DETAIL 0
#define CW_CONFIG_TOOLS 0
#define CW_CONFIG_REQUEST_OPTIONS 0
#define CW_CONFIG_CONTENT_PARTS 0
#define CW_CONFIG_REASONING 0
#define CW_CONFIG_STREAM_FAST_PATHS 0
#define CW_CONFIG_NONBLOCKING 0

#endif /* CW_CONFIG_SMALL_H */
