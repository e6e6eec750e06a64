/*
 * cw_tls.c - TLS transport on mbedTLS 2.28 or 3.6. See cw_tls.h.
 */
#include "cw_tls.h"

#include "chatwire.h"

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/version.h>
#include <stdio.h>
#include <string.h>

#if MBEDTLS_VERSION_MAJOR >= 3
#include <psa/crypto.h>
#define CW_MBEDTLS3 1
#else
#define CW_MBEDTLS3 0
#endif

#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define CW_HAVE_TLS13 1
#else
#define CW_HAVE_TLS13 0
#endif

static const char *alpn_list[] = { "http/1.1", NULL };

#if CW_MBEDTLS3
/* mbedTLS 3.6's default list with P-256 and X25519 swapped. A TLS 1.3
 * client sends one key share, for the first group; mbedTLS computes P-256
 * (fixed-base comb) about 4 M instructions cheaper than X25519 (generic
 * Montgomery ladder) for the keygen and the shared secret together
 * (scripts/bench.sh, callgrind). A server that insists on X25519 answers
 * with a HelloRetryRequest, which costs a round trip and a second keygen.
 * Groups this build lacks are left out of the ClientHello by mbedTLS. */
static const uint16_t group_list[] = {
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_X448,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_BP256R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_BP384R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_BP512R1,
#if defined(PSA_WANT_ALG_FFDH)
    MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE2048,
    MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE3072,
    MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE4096,
    MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE6144,
    MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE8192,
#endif
    MBEDTLS_SSL_IANA_TLS_GROUP_NONE
};
#endif

static uint32_t now(const cw_tls_t *t)
{
    return t->inner.now_ms(t->inner.ctx);
}

static uint32_t time_left(const cw_tls_t *t)
{
    uint32_t spent = now(t) - t->deadline_start;
    return spent >= t->deadline_ms ? 0u : t->deadline_ms - spent;
}

static void set_deadline(cw_tls_t *t, uint32_t timeout_ms)
{
    t->deadline_start = now(t);
    t->deadline_ms = timeout_ms;
}

/* ------------------------------------------------------------ BIO */

/* What mbedTLS wants back from a BIO call, given what the inner transport
 * returned: the bytes moved, `again` for "try again" (0), or `failed`
 * with the transport's own status kept for the error report. */
static int bio_result(cw_tls_t *t, int32_t n, int again, int failed)
{
    if (n > 0) {
        return (int)n;
    }
    if (n == 0) {
        return again;
    }
    t->inner_error = (int)n;
    return failed;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    return bio_result(t, t->inner.send(t->inner.ctx, buf, len, time_left(t)),
                      MBEDTLS_ERR_SSL_WANT_WRITE, MBEDTLS_ERR_NET_SEND_FAILED);
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    return bio_result(t, t->inner.recv(t->inner.ctx, buf, len, time_left(t)),
                      MBEDTLS_ERR_SSL_WANT_READ, MBEDTLS_ERR_NET_RECV_FAILED);
}

/* ------------------------------------------------------------ words */

static void set_error(cw_tls_t *t, const char *what, int code)
{
    char detail[128];
    t->tls_error = code;
#if defined(MBEDTLS_ERROR_C)
    mbedtls_strerror(code, detail, sizeof detail);
#else
    snprintf(detail, sizeof detail, "mbedTLS error -0x%04x", (unsigned)-code);
#endif
    snprintf(t->error, sizeof t->error, "%s: %s", what, detail);
}

/* Records the leaf's name and whether it signed itself. */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth,
                     uint32_t *flags)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    const mbedtls_x509_sequence *san;
    (void)flags;

    if (depth != 0) {
        return 0;
    }
    t->cert_seen = true;
    t->self_signed = crt->issuer_raw.len == crt->subject_raw.len &&
                     memcmp(crt->issuer_raw.p, crt->subject_raw.p,
                            crt->issuer_raw.len) == 0;
    t->peer_name[0] = '\0';
    for (san = &crt->subject_alt_names; san != NULL; san = san->next) {
        /* [2] dNSName, context-specific */
        if (san->buf.p != NULL && (san->buf.tag & 0x1f) == 2 &&
            (san->buf.tag & 0x80) != 0) {
            size_t n = san->buf.len < sizeof t->peer_name - 1u
                           ? san->buf.len : sizeof t->peer_name - 1u;
            memcpy(t->peer_name, san->buf.p, n);
            t->peer_name[n] = '\0';
            return 0;
        }
    }
    if (mbedtls_x509_dn_gets(t->peer_name, sizeof t->peer_name,
                             &crt->subject) < 0) {
        t->peer_name[0] = '\0';
    }
    return 0;
}

static void describe_verify_failure(cw_tls_t *t)
{
    uint32_t f = t->verify_flags;

    if ((f & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0u) {
        bool ip = strspn(t->host, "0123456789.:abcdefABCDEF") ==
                      strlen(t->host) && strpbrk(t->host, ".:") != NULL;
        snprintf(t->error, sizeof t->error,
                 "TLS: certificate is for %.64s, not %.64s%s",
                 t->peer_name[0] != '\0' ? t->peer_name : "another host",
                 t->host, ip && !CW_MBEDTLS3
                     ? " (mbedTLS 2.x matches no IP address entries: use "
                       "a host name)" : "");
    } else if ((f & MBEDTLS_X509_BADCERT_EXPIRED) != 0u) {
        snprintf(t->error, sizeof t->error,
                 "TLS: certificate for %.64s has expired", t->host);
    } else if ((f & MBEDTLS_X509_BADCERT_FUTURE) != 0u) {
        snprintf(t->error, sizeof t->error,
                 "TLS: certificate for %.64s is not yet valid (check the clock)",
                 t->host);
    } else if ((f & MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0u) {
        snprintf(t->error, sizeof t->error,
                 t->self_signed
                     ? "TLS: certificate for %.64s is self-signed"
                     : "TLS: certificate for %.64s is signed by an unknown CA",
                 t->host);
    } else {
        char info[128];
        int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", f);
        if (n > 0 && info[n - 1] == '\n') {
            info[n - 1] = '\0';
        }
        snprintf(t->error, sizeof t->error,
                 "TLS: certificate for %.64s rejected: %.60s", t->host,
                 n > 0 ? info : "unknown reason");
    }
}

/* ------------------------------------------------------------ setup */

int cw_tls_init(cw_tls_t *t, cw_transport_t inner, const cw_tls_config_t *cfg)
{
    static const char pers[] = "chatwire";
    cw_tls_config_t none;
    int min_v;
    int max_v;
    int rc;

    if (t == NULL || inner.send == NULL || inner.recv == NULL ||
        inner.now_ms == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    if (cfg == NULL) {
        memset(&none, 0, sizeof none);
        cfg = &none;
    }
    memset(t, 0, sizeof *t);
    t->inner = inner;
    min_v = cfg->min_version == 0u ? CW_TLS_1_2 : cfg->min_version;
    max_v = cfg->max_version == 0u ? (CW_HAVE_TLS13 ? CW_TLS_1_3 : CW_TLS_1_2)
                                   : cfg->max_version;
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_entropy_init(&t->entropy);
    if (min_v < CW_TLS_1_2 || max_v > CW_TLS_1_3 || min_v > max_v ||
        (max_v == CW_TLS_1_3 && !CW_HAVE_TLS13)) {
        snprintf(t->error, sizeof t->error,
                 "TLS: this mbedTLS build (%s) cannot do the TLS versions "
                 "asked for", MBEDTLS_VERSION_STRING);
        return CW_ERR_INVALID_ARG;
    }
#if CW_MBEDTLS3
    if (psa_crypto_init() != PSA_SUCCESS) {
        snprintf(t->error, sizeof t->error, "TLS: psa_crypto_init failed");
        return CW_ERR_TLS;
    }
#endif
    rc = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                               (const unsigned char *)pers, sizeof pers - 1u);
    if (rc != 0) {
        set_error(t, "TLS: seeding the random generator failed", rc);
        return CW_ERR_TLS;
    }
    if (cfg->ca != NULL) {
        rc = mbedtls_x509_crt_parse(&t->ca, cfg->ca, cfg->ca_len);
    } else {
#if defined(MBEDTLS_FS_IO)
        const char *file = cfg->ca_file != NULL ? cfg->ca_file
                                                : CW_TLS_DEFAULT_CA_FILE;
        rc = mbedtls_x509_crt_parse_file(&t->ca, file);
#else
        rc = MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE;
#endif
    }
    /* a positive result counts certificates of a bundle that did not parse
     * (unsupported kinds): the others load, as curl does */
    if (rc < 0 || t->ca.raw.p == NULL) {
        set_error(t, "TLS: cannot load the trust anchors", rc);
        return CW_ERR_INVALID_ARG;
    }
    rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                     MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0) {
        set_error(t, "TLS: configuration failed", rc);
        return CW_ERR_TLS;
    }
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    mbedtls_ssl_conf_verify(&t->conf, verify_cb, t);
#if CW_MBEDTLS3
    mbedtls_ssl_conf_min_tls_version(&t->conf, min_v == CW_TLS_1_3
                                     ? MBEDTLS_SSL_VERSION_TLS1_3
                                     : MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&t->conf, max_v == CW_TLS_1_3
                                     ? MBEDTLS_SSL_VERSION_TLS1_3
                                     : MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_groups(&t->conf, group_list);
#else
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
#endif
#if defined(MBEDTLS_SSL_ALPN)
    mbedtls_ssl_conf_alpn_protocols(&t->conf, alpn_list);
#else
    (void)alpn_list;
#endif
    rc = mbedtls_ssl_setup(&t->ssl, &t->conf);
    if (rc != 0) {
        set_error(t, "TLS: setup failed", rc);
        return CW_ERR_TLS;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    t->no_resumption = cfg->no_resumption;
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && \
    defined(MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED)
    /* 3.6.1+: have mbedtls_ssl_read report TLS 1.3 tickets, to save them */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        &t->conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
    return CW_OK;
}

bool cw_tls_resumed(const cw_tls_t *t)
{
    return t->resumed;
}

void cw_tls_forget_session(cw_tls_t *t)
{
    t->session_len = 0;
    t->session_host[0] = '\0';
}

/* Saves the current session in t->session, for the next connection. */
static void save_session(cw_tls_t *t)
{
    mbedtls_ssl_session s;
    size_t len = 0;

    if (t->no_resumption) {
        return;
    }
    mbedtls_ssl_session_init(&s);
    if (mbedtls_ssl_get_session(&t->ssl, &s) == 0 &&
        mbedtls_ssl_session_save(&s, t->session, sizeof t->session, &len) ==
            0) {
        t->session_len = len;
        memcpy(t->session_host, t->host, sizeof t->session_host);
    }
    mbedtls_ssl_session_free(&s);
}

/* Offers the saved session, if it is for this host. */
static void offer_session(cw_tls_t *t)
{
    mbedtls_ssl_session s;

    if (t->no_resumption || t->session_len == 0u ||
        strcmp(t->session_host, t->host) != 0) {
        return;
    }
    mbedtls_ssl_session_init(&s);
    if (mbedtls_ssl_session_load(&s, t->session, t->session_len) != 0 ||
        mbedtls_ssl_set_session(&t->ssl, &s) != 0) {
        cw_tls_forget_session(t); /* from another build, or stale */
    }
    mbedtls_ssl_session_free(&s);
}

void cw_tls_free(cw_tls_t *t)
{
    if (t == NULL) {
        return;
    }
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
}

const char *cw_tls_error(const cw_tls_t *t)
{
    return t->error;
}

const char *cw_tls_build_info(void)
{
    return "mbedTLS " MBEDTLS_VERSION_STRING ", TLS 1.2"
#if CW_HAVE_TLS13
           ", TLS 1.3"
#endif
        ;
}

const char *cw_tls_version(const cw_tls_t *t)
{
    return t->version != NULL ? t->version : "";
}

/* ------------------------------------------------------------ transport */

/* Maps a failed mbedTLS call: the inner transport's own error wins. */
static int fail(cw_tls_t *t, const char *what, int code)
{
    if (t->inner_error != 0) {
        int e = t->inner_error;
        t->inner_error = 0;
        snprintf(t->error, sizeof t->error, "%s: %s", what, cw_strerror(e));
        return e;
    }
    set_error(t, what, code);
    return CW_ERR_TLS;
}

static void tls_close(void *ctx)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    if (t->connected) {
        /* best effort, without waiting: the peer may be gone already */
        set_deadline(t, 0);
        (void)mbedtls_ssl_close_notify(&t->ssl);
        t->connected = false;
    }
    if (t->inner.close != NULL) {
        t->inner.close(t->inner.ctx);
    }
    (void)mbedtls_ssl_session_reset(&t->ssl);
    t->inner_error = 0;
}

static int tls_connect(void *ctx, const char *host, size_t host_len,
                       uint16_t port, uint32_t timeout_ms)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    int rc;

    tls_close(t);
    t->error[0] = '\0';
    t->verify_flags = 0;
    t->version = NULL;
    if (host_len == 0u || host_len >= sizeof t->host) {
        return CW_ERR_INVALID_ARG;
    }
    memcpy(t->host, host, host_len);
    t->host[host_len] = '\0';
    set_deadline(t, timeout_ms);
    if (t->inner.connect != NULL) {
        rc = t->inner.connect(t->inner.ctx, host, host_len, port, timeout_ms);
        if (rc != CW_OK) {
            return rc;
        }
    }
    rc = mbedtls_ssl_set_hostname(&t->ssl, t->host); /* SNI + verification */
    if (rc != 0) {
        return fail(t, "TLS: bad host name", rc);
    }
    t->cert_seen = false;
    t->resumed = false;
    offer_session(t);
    for (;;) {
        rc = mbedtls_ssl_handshake(&t->ssl);
        if (rc == 0) {
            break;
        }
        if (rc != MBEDTLS_ERR_SSL_WANT_READ &&
            rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
            t->verify_flags = mbedtls_ssl_get_verify_result(&t->ssl);
            if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
                (t->verify_flags != 0u && t->verify_flags != (uint32_t)-1)) {
                t->tls_error = rc;
                describe_verify_failure(t);
                tls_close(t);
                return CW_ERR_CERT;
            }
            if (t->inner_error == CW_ERR_CLOSED) {
                /* a server that hangs up mid-handshake found nothing in
                 * common with us: that is a TLS failure, not a network one */
                t->inner_error = 0;
                snprintf(t->error, sizeof t->error,
                         "TLS handshake failed: the server closed the "
                         "connection (no TLS version or cipher in common?)");
                tls_close(t);
                return CW_ERR_TLS;
            }
            rc = fail(t, "TLS handshake failed", rc);
            tls_close(t);
            return rc;
        }
        if (time_left(t) == 0u) {
            snprintf(t->error, sizeof t->error, "TLS handshake timed out");
            tls_close(t);
            return CW_ERR_TIMEOUT;
        }
    }
    t->connected = true;
    t->version = mbedtls_ssl_get_version(&t->ssl); /* a static string */
    t->resumed = !t->cert_seen; /* an abbreviated handshake has none */
    t->handshakes++;
    t->resumptions += t->resumed ? 1u : 0u;
    save_session(t); /* TLS 1.2; TLS 1.3 tickets come later, in tls_recv */
    return CW_OK;
}

static int32_t tls_send(void *ctx, const uint8_t *buf, size_t len,
                        uint32_t timeout_ms)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    int rc;

    if (!t->connected) {
        return CW_ERR_CLOSED;
    }
    set_deadline(t, timeout_ms);
    rc = mbedtls_ssl_write(&t->ssl, buf, len);
    if (rc >= 0) {
        return (int32_t)rc;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 0;
    }
    return fail(t, "TLS write failed", rc);
}

static int32_t tls_recv(void *ctx, uint8_t *buf, size_t len,
                        uint32_t timeout_ms)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    int rc;

    if (!t->connected) {
        return CW_ERR_CLOSED;
    }
    set_deadline(t, timeout_ms);
    rc = mbedtls_ssl_read(&t->ssl, buf, len);
    if (rc > 0) {
        return (int32_t)rc;
    }
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        return CW_ERR_CLOSED;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 0;
    }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
    if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
        save_session(t); /* TLS 1.3 ticket after the handshake */
        return 0;        /* and call again */
    }
#endif
    return fail(t, "TLS read failed", rc);
}

static uint32_t tls_now(void *ctx)
{
    return now((cw_tls_t *)ctx);
}

cw_transport_t cw_tls_transport(cw_tls_t *t)
{
    cw_transport_t tr;
    tr.ctx = t;
    tr.connect = tls_connect;
    tr.send = tls_send;
    tr.recv = tls_recv;
    tr.close = tls_close;
    tr.now_ms = tls_now;
    return tr;
}
