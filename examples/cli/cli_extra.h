/*
 * cli_extra.h - what the chatwire command needs besides the library: tool
 * definitions read from a file, tools run as commands, files read as
 * image parts, and JSON written to standard output.
 */
#ifndef CLI_EXTRA_H
#define CLI_EXTRA_H

#include "chatwire.h"

#include <stdio.h>

/* Reads a JSON array of OpenAI tool definitions ({"type": "function",
 * "function": {"name", "description", "parameters", "strict"}}) from path
 * into tools (at most max), their strings in store. 0, or -1 with err
 * saying what is wrong and where. */
int cli_load_tools(const char *path, cw_tool_t *tools, size_t max,
                   size_t *count, char *store, size_t store_size, char *err,
                   size_t errcap);

/* Reads a whole file (at most cap - 1 bytes) into buf, NUL-terminated.
 * Returns its length, or -1 with err set. */
long cli_read_file(const char *path, char *buf, size_t cap, char *err,
                   size_t errcap);

/* Runs cmd (/bin/sh -c) for one tool call: CHATWIRE_TOOL_NAME and
 * CHATWIRE_TOOL_CALL_ID in its environment, the call's arguments on its
 * standard input; its standard output (at most cap - 1 bytes) into out,
 * NUL-terminated. A command that exits with another status than 0 still
 * gives its output, followed by a line saying the status. 0, or -1 with
 * err set (the command could not run, or said more than cap). */
int cli_run_tool(const char *cmd, const cw_tool_call_t *call, char *out,
                 size_t cap, size_t *len, char *err, size_t errcap);

/* A file as the bytes of a content part: open, size, read, rewind. */
typedef struct cli_file {
    int fd;
    uint64_t size;
} cli_file_t;

int cli_file_open(cli_file_t *f, const char *path, char *err, size_t errcap);
int32_t cli_file_read(void *ctx, uint8_t *buf, size_t len);
int cli_file_rewind(void *ctx);

/* The media type of an image file, from its name; NULL when unknown. */
const char *cli_image_mime(const char *path);

/* s[0..len) as a JSON string (NULL: null), with ill-formed UTF-8 as
 * U+FFFD so that the output is always valid JSON. */
void cli_json_string(FILE *out, const char *s, size_t len);
/* The fields --output json and --batch share, from finish_reason to the
 * API's error object, each with its name, comma-separated (no braces). */
void cli_json_result(FILE *out, const cw_result_t *res);

#endif /* CLI_EXTRA_H */
