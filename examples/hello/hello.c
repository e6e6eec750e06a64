/* hello.c - the README's example: stream one answer to stdout. The API
 * reference shows it, between the two markers. */
/* [minimal] */
#include "chatwire.h"
#include "cw_posix.h"
#include "cw_tls.h"
#include <stdio.h>
#include <stdlib.h>

static int print(void *user, const char *text, size_t len)
{
    (void)user;
    fwrite(text, 1, len, stdout);
    return 0;
}

int main(void)
{
    static cw_posix_t sock;
    static cw_tls_t tls;
    static cw_client_t client;
    static uint8_t io[2048], work[16384];
    cw_tls_config_t tls_cfg = { .ca_file = getenv("CHATWIRE_CA") }; /* NULL: system CAs */
    cw_posix_init(&sock);
    if (cw_tls_init(&tls, cw_posix_transport(&sock), &tls_cfg) != CW_OK) return 1;
    cw_client_config_t cfg = { .transport = cw_tls_transport(&tls),
                               .base_url = getenv("CHATWIRE_BASE_URL"), /* NULL: CometAPI */
                               .api_key = getenv("COMETAPI_KEY"),
                               .io_buf = io, .io_size = sizeof io,
                               .work_buf = work, .work_size = sizeof work };
    if (cw_client_init(&client, &cfg) != CW_OK) return 1;
    cw_message_t msgs[] = { { "user", "Explain snapshot model versions in APIs." } };
    cw_chat_request_t req;
    cw_chat_request_init(&req, msgs, 1);
    req.stream = true;
    req.on_delta = print;
    cw_result_t res;
    int rc = cw_chat(&client, &req, &res);
    printf("\n[%s, HTTP %d, %s]\n", cw_strerror(rc), res.http.status, res.error.message);
    cw_client_close(&client);
    cw_tls_free(&tls);
    return rc == CW_OK ? 0 : 1;
}
/* [minimal] */
