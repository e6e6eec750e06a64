/*
 * consumer - a program outside chatwire's tree, built against an installed
 * chatwire (find_package, or pkg-config): one streamed chat over TLS.
 *
 *   COMETAPI_KEY=... consumer BASE_URL CA_FILE PROMPT
 *
 * Prints the answer, then "tls=VERSION" and "rc=STATUS"; exits 0 on success.
 */
#include <chatwire.h>
#include <cw_posix.h>
#include <cw_tls.h>

#include <stdio.h>
#include <stdlib.h>

static int print(void *user, const char *text, size_t len)
{
    (void)user;
    fwrite(text, 1, len, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static cw_posix_t sock;
    static cw_tls_t tls;
    static cw_client_t client;
    static uint8_t io[2048], work[16384];
    cw_tls_config_t tcfg = { 0 };
    cw_client_config_t cfg = { 0 };
    cw_message_t msg;
    cw_chat_request_t req;
    cw_result_t res;
    int rc;

    if (argc != 4) {
        fprintf(stderr, "usage: consumer BASE_URL CA_FILE PROMPT\n");
        return 2;
    }
    cw_posix_init(&sock);
    tcfg.ca_file = argv[2];
    if (cw_tls_init(&tls, cw_posix_transport(&sock), &tcfg) != CW_OK) {
        fprintf(stderr, "consumer: %s\n", cw_tls_error(&tls));
        return 1;
    }
    cfg.transport = cw_tls_transport(&tls);
    cfg.base_url = argv[1];
    cfg.api_key = getenv("COMETAPI_KEY");
    cfg.io_buf = io;
    cfg.io_size = sizeof io;
    cfg.work_buf = work;
    cfg.work_size = sizeof work;
    if (cw_client_init(&client, &cfg) != CW_OK) {
        return 1;
    }
    msg.role = "user";
    msg.content = argv[3];
    cw_chat_request_init(&req, &msg, 1);
    req.stream = true;
    req.on_delta = print;
    rc = cw_chat(&client, &req, &res);
    printf("\ntls=%s\nrc=%d\n", cw_tls_version(&tls), rc);
    if (rc != CW_OK) {
        fprintf(stderr, "consumer: %s %s %s\n", cw_strerror(rc), res.detail,
                cw_tls_error(&tls));
    }
    cw_client_close(&client);
    cw_tls_free(&tls);
    return rc == CW_OK ? 0 : 1;
}
