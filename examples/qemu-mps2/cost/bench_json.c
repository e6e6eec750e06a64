/*
 * bench_json.c - the JSON layer's tokenise-and-check step alone, for
 * bench_stream.c's breakdown: src/core/cw_json.c compiled once more in this file
 * (its functions renamed, so that they do not clash with the library's),
 * which makes its static parse() (jsmn, then the grammar check) callable.
 * The same source and flags as the library's object: the same code.
 */
#define cw_json_token_capacity bench_json_token_capacity
#define cw_json_token_align bench_json_token_align
#define cw_copy_field bench_copy_field
#define cw_hex_value bench_hex_value
#define cw_utf8_tail bench_utf8_tail
#define cw_utf8_check bench_utf8_check
#define cw_utf8_valid bench_utf8_valid
#define cw_json_unescape bench_json_unescape
#define cw_json_error bench_json_error
#define cw_json_text_check bench_json_text_check
#define cw_json_completion bench_json_completion
#define cw_json_chunk bench_json_chunk
#define cw_json_chunk_jsmn bench_json_chunk_jsmn
#define cw_json_chunk_fast bench_json_chunk_fast
#include "../../../src/core/cw_json.c"

int bench_json_parse(char *json, size_t len, void *tokens, size_t ntok,
                     cw_result_t *res);

int bench_json_parse(char *json, size_t len, void *tokens, size_t ntok,
                     cw_result_t *res)
{
    doc_t d;
    return parse(&d, json, len, tokens, ntok, res);
}
