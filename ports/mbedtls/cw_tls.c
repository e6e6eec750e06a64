/*
 * cw_tls.c - TLS transport on mbedTLS 2.28 or 3.6. See cw_tls.h.
 */
#include "cw_tls.h"

#include "chatwire.h"

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#if defined(MBEDTLS_HAVE_TIME)
#include <mbedtls/platform_time.h>
#endif
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

/* Fields of mbedtls_ssl_context that have no getter: the handshake state
 * and the alert just received (read only after a failed handshake, to say
 * why). 3.x marks them private; 2.28 does not. */
#if CW_MBEDTLS3
#define CW_SSL_FIELD(ssl, f) ((ssl)->MBEDTLS_PRIVATE(f))
#else
#define CW_SSL_FIELD(ssl, f) ((ssl)->f)
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
    return cw_time_left_ms(t->deadline_start, t->deadline_ms, now(t));
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
    int32_t n = t->inner.recv(t->inner.ctx, buf, len, time_left(t));

    /* the peer's first bytes, to tell a plain HTTP answer from TLS */
    if (n > 0 && t->first_len < sizeof t->first) {
        size_t k = sizeof t->first - t->first_len;
        if (k > (size_t)n) {
            k = (size_t)n;
        }
        memcpy(t->first + t->first_len, buf, k);
        t->first_len = (uint8_t)(t->first_len + k);
    }
    return bio_result(t, n, MBEDTLS_ERR_SSL_WANT_READ,
                      MBEDTLS_ERR_NET_RECV_FAILED);
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
    /* cut to fit: the start says what failed, the rest why */
    snprintf(t->error, sizeof t->error, "%.150s: %.100s", what, detail);
}

/* ------------------------------------------------------------ IP hosts */

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* An IPv4 dotted quad into out[4]; false if host is not one. */
static bool parse_ipv4(const char *s, uint8_t out[4])
{
    int part;

    for (part = 0; part < 4; part++) {
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            v = v * 10u + (unsigned)(*s++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255u ||
            (part < 3 && *s++ != '.')) {
            return false;
        }
        out[part] = (uint8_t)v;
    }
    return *s == '\0';
}

/* An IPv6 address (RFC 4291 text forms, "::" and a dotted tail included)
 * into out[16]; false if host is not one. */
static bool parse_ipv6(const char *s, uint8_t out[16])
{
    uint8_t a[16];
    int n = 0;     /* bytes written */
    int gap = -1;  /* where "::" was */
    size_t i;

    if (s[0] == ':' && s[1] == ':') {
        gap = 0;
        s += 2;
    }
    while (*s != '\0' && n < 16) {
        unsigned v = 0;
        int digits = 0;
        if (n <= 12 && strchr(s, ':') == NULL && strchr(s, '.') != NULL) {
            if (!parse_ipv4(s, a + n)) {
                return false;
            }
            n += 4;
            s += strlen(s);
            break;
        }
        while (hex_digit(*s) >= 0 && digits < 5) {
            v = v * 16u + (unsigned)hex_digit(*s++);
            digits++;
        }
        if (digits == 0 || digits > 4) {
            return false;
        }
        a[n++] = (uint8_t)(v >> 8);
        a[n++] = (uint8_t)v;
        if (*s == ':') {
            s++;
            if (*s == ':') {
                if (gap >= 0) {
                    return false; /* a second "::" */
                }
                gap = n;
                s++;
            } else if (*s == '\0') {
                return false;
            }
        }
    }
    if (*s != '\0' || (gap < 0 && n != 16) || (gap >= 0 && n > 14)) {
        return false;
    }
    memset(out, 0, 16);
    if (gap < 0) {
        memcpy(out, a, 16);
    } else {
        memcpy(out, a, (size_t)gap);
        for (i = 0; i < (size_t)(n - gap); i++) {
            out[16 - (size_t)(n - gap) + i] = a[(size_t)gap + i];
        }
    }
    return true;
}

/* Whether the certificate names addr in an iPAddress subjectAltName. */
static bool cert_has_ip(const mbedtls_x509_crt *crt, const uint8_t *addr,
                        size_t len)
{
    const mbedtls_x509_sequence *san;

    for (san = &crt->subject_alt_names; san != NULL; san = san->next) {
        /* [7] iPAddress, context-specific, primitive: the raw bytes */
        if (san->buf.p != NULL && san->buf.tag == 0x87 &&
            san->buf.len == len && memcmp(san->buf.p, addr, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Records the leaf's name and whether it signed itself. */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth,
                     uint32_t *flags)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    const mbedtls_x509_sequence *san;

    if (depth != 0) {
        return 0;
    }
    t->cert_seen = true;
    if (t->host_ip_len > 0u && !cert_has_ip(crt, t->host_ip, t->host_ip_len)) {
        /* an IP literal is matched here, as mbedTLS is given no host name
         * for it (so that none goes out as SNI) */
        *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
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
        snprintf(t->error, sizeof t->error,
                 "TLS: certificate is for %.64s, not %.64s%s",
                 t->peer_name[0] != '\0' ? t->peer_name : "another host",
                 t->host, t->host_ip_len > 0u
                     ? " (an IP address must be in an iPAddress entry)" : "");
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

/* The trust anchors: a buffer, or a PEM file (named in the error: a path
 * is no secret). */
static cw_status_t load_anchors(cw_tls_t *t, const cw_tls_config_t *cfg)
{
    char what[CW_TLS_ERROR_MAX / 2u];
    int rc;

    if (cfg->ca != NULL) {
        rc = mbedtls_x509_crt_parse(&t->ca, cfg->ca, cfg->ca_len);
        snprintf(what, sizeof what, "the trust anchors given in memory");
    } else {
#if defined(MBEDTLS_FS_IO)
        const char *file = cfg->ca_file != NULL ? cfg->ca_file
                                                : CW_TLS_DEFAULT_CA_FILE;
        rc = mbedtls_x509_crt_parse_file(&t->ca, file);
        snprintf(what, sizeof what, "%.100s", file);
        if (rc == MBEDTLS_ERR_X509_FILE_IO_ERROR ||
            rc == MBEDTLS_ERR_PK_FILE_IO_ERROR) {
            snprintf(t->error, sizeof t->error, "TLS: cannot read the trust "
                     "anchors file %s (missing or unreadable)", what);
            t->tls_error = rc;
            return CW_ERR_INVALID_ARG;
        }
#else
        rc = MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE;
        snprintf(what, sizeof what, "a file (this build reads no files: "
                 "give the anchors in cw_tls_config_t.ca)");
#endif
    }
    /* a positive result counts certificates of a bundle that did not parse
     * (unsupported kinds): the others load, as curl does */
    if (rc < 0 || t->ca.raw.p == NULL) {
        char head[CW_TLS_ERROR_MAX];
        snprintf(head, sizeof head, "TLS: no trust anchor loads from %s%s",
                 what, rc >= 0 ? " (no certificate in it)" : "");
        set_error(t, head, rc < 0 ? rc : MBEDTLS_ERR_X509_INVALID_FORMAT);
        return CW_ERR_INVALID_ARG;
    }
    return CW_OK;
}

/* The random generator seeded (PSA started first, on mbedTLS 3). */
static cw_status_t seed_random(cw_tls_t *t)
{
    static const char pers[] = "chatwire";
    int rc;

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
    return CW_OK;
}

/* A client configuration that verifies the server against t->ca, for TLS
 * versions min_v to max_v (CW_TLS_1_2, CW_TLS_1_3), then the TLS context
 * over it and over t's BIO. */
static cw_status_t configure(cw_tls_t *t, int min_v, int max_v)
{
    int rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
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
    (void)min_v;
    (void)max_v;
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
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && \
    defined(MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED)
    /* 3.6.1+: have mbedtls_ssl_read report TLS 1.3 tickets, to save them */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        &t->conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
    return CW_OK;
}

cw_status_t cw_tls_init(cw_tls_t *t, cw_transport_t inner,
                        const cw_tls_config_t *cfg)
{
    cw_tls_config_t none;
    int min_v;
    int max_v;
    cw_status_t st;

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
    st = seed_random(t);
    if (st == CW_OK) {
        st = load_anchors(t, cfg);
    }
    if (st == CW_OK) {
        st = configure(t, min_v, max_v);
    }
    if (st == CW_OK) {
        t->no_resumption = cfg->no_resumption;
    }
    return st;
}

bool cw_tls_resumed(const cw_tls_t *t)
{
    return t->resumed;
}

void cw_tls_forget_session(cw_tls_t *t)
{
    t->session_len = 0;
    t->session_host[0] = '\0';
    t->session_imported = false;
}

/* ------------------------------------------------------------ sessions */

#if defined(MBEDTLS_HAVE_TIME)
static int64_t unix_now(void)
{
    return (int64_t)mbedtls_time(NULL);
}
#else
static int64_t unix_now(void)
{
    return 0; /* unknown: ages are not checked here (the server does) */
}
#endif

#if CW_MBEDTLS3 && defined(MBEDTLS_SSL_PROTO_TLS1_3) && \
    defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_HAVE_TIME)
#define CW_TICKET_TIMES 1
#else
#define CW_TICKET_TIMES 0
#endif

/* How old a TLS 1.3 ticket is, in ms of mbedTLS's clock; 0 otherwise. */
static uint32_t ticket_age_ms(const mbedtls_ssl_session *s)
{
#if CW_TICKET_TIMES
    if (s->MBEDTLS_PRIVATE(tls_version) == MBEDTLS_SSL_VERSION_TLS1_3) {
        mbedtls_ms_time_t age = mbedtls_ms_time() -
                                s->MBEDTLS_PRIVATE(ticket_reception_time);
        return age > 0 && age < (mbedtls_ms_time_t)0xffffffff
                   ? (uint32_t)age : 0u;
    }
#else
    (void)s;
#endif
    return 0;
}

/* The lifetime the server gave the session's ticket (TLS 1.2 or 1.3), or
 * CW_TLS_SESSION_MAX_AGE_S for a session without one. */
static uint32_t session_lifetime(const mbedtls_ssl_session *s)
{
    uint32_t life = 0;
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
#if CW_MBEDTLS3
    life = s->MBEDTLS_PRIVATE(ticket_lifetime);
#else
    life = s->ticket_lifetime;
#endif
#else
    (void)s;
#endif
    return life != 0u && life < CW_TLS_SESSION_MAX_AGE_S
               ? life : CW_TLS_SESSION_MAX_AGE_S;
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
        t->session_unix = unix_now() - (int64_t)(ticket_age_ms(&s) / 1000u);
        t->session_lifetime = session_lifetime(&s);
        t->session_imported = false;
    }
    mbedtls_ssl_session_free(&s);
}

/* Offers the saved session, if it is for this host; true when it did. */
static bool offer_session(cw_tls_t *t)
{
    mbedtls_ssl_session s;
    bool offered = false;

    if (t->no_resumption || t->session_len == 0u) {
        if (!t->session_refused) { /* else the import's reason stands */
            t->session_note = t->no_resumption ? "sessions are off"
                                               : "no saved session";
        }
        t->session_refused = false;
        return false;
    }
    if (strcmp(t->session_host, t->host) != 0) {
        t->session_note = "the saved session is for another host";
        return false;
    }
    mbedtls_ssl_session_init(&s);
    if (mbedtls_ssl_session_load(&s, t->session, t->session_len) != 0) {
        t->session_note = "the saved session is not of this mbedTLS build";
        cw_tls_forget_session(t);
    } else {
#if CW_TICKET_TIMES
        if (t->session_imported &&
            s.MBEDTLS_PRIVATE(tls_version) == MBEDTLS_SSL_VERSION_TLS1_3) {
            /* mbedTLS dates a ticket by its own ms clock, which restarts
             * with the device: put the reception back by its real age, or
             * the ticket reads as from the future and is dropped unsaid */
            int64_t age_s = unix_now() - t->session_unix;
            s.MBEDTLS_PRIVATE(ticket_reception_time) =
                mbedtls_ms_time() - (mbedtls_ms_time_t)(age_s > 0 ? age_s
                                                                   : 0) * 1000;
        }
#endif
        offered = mbedtls_ssl_set_session(&t->ssl, &s) == 0;
        t->session_note = offered ? "offered" : "mbedTLS refused the session";
        if (!offered) {
            cw_tls_forget_session(t);
        }
    }
    mbedtls_ssl_session_free(&s);
    return offered;
}

/* Blob layout (little-endian): magic "CWTS", format 1, 0, host length (2),
 * mbedTLS version (4), saved at (unix seconds, 8), lifetime (seconds, 4),
 * session length (4), the host, mbedTLS's serialized session, then the
 * SHA-256 of all that. */
#define BLOB_HEAD 28u
#define BLOB_SUM 32u

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8u * i));
    }
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    while (n-- > 0u) {
        v = (v << 8) | p[n];
    }
    return v;
}

static int sha256(const uint8_t *in, size_t len, uint8_t out[32])
{
#if CW_MBEDTLS3
    return mbedtls_sha256(in, len, out, 0);
#else
    return mbedtls_sha256_ret(in, len, out, 0);
#endif
}

size_t cw_tls_session_size(const cw_tls_t *t)
{
    if (t == NULL || t->session_len == 0u) {
        return 0;
    }
    return BLOB_HEAD + strlen(t->session_host) + t->session_len + BLOB_SUM;
}

cw_status_t cw_tls_session_export(const cw_tls_t *t, uint8_t *blob,
                                  size_t cap, size_t *len)
{
    size_t need = cw_tls_session_size(t);
    size_t hl;

    if (len == NULL || need == 0u) {
        return CW_ERR_INVALID_ARG; /* no session to export */
    }
    *len = need;
    if (blob == NULL || cap < need) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    hl = strlen(t->session_host);
    memcpy(blob, "CWTS", 4);
    blob[4] = 1;
    blob[5] = 0;
    put_le(blob + 6, hl, 2);
    put_le(blob + 8, MBEDTLS_VERSION_NUMBER, 4);
    put_le(blob + 12, (uint64_t)t->session_unix, 8);
    put_le(blob + 20, t->session_lifetime, 4);
    put_le(blob + 24, t->session_len, 4);
    memcpy(blob + BLOB_HEAD, t->session_host, hl);
    memcpy(blob + BLOB_HEAD + hl, t->session, t->session_len);
    return sha256(blob, need - BLOB_SUM, blob + need - BLOB_SUM) == 0
               ? CW_OK : CW_ERR_TLS;
}

/* Refuses an import: says why, keeps no session. */
static cw_status_t refuse_blob(cw_tls_t *t, const char *why)
{
    cw_tls_forget_session(t);
    t->session_note = why;
    t->session_refused = true;
    return CW_ERR_INVALID_ARG;
}

cw_status_t cw_tls_session_import(cw_tls_t *t, const uint8_t *blob,
                                  size_t len)
{
    uint8_t sum[32];
    size_t hl;
    size_t sl;
    int64_t saved;
    uint32_t life;
    int64_t now;

    if (t == NULL || blob == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    if (len < BLOB_HEAD + BLOB_SUM || memcmp(blob, "CWTS", 4) != 0 ||
        blob[4] != 1u) {
        return refuse_blob(t, "the blob is not a chatwire TLS session");
    }
    hl = (size_t)get_le(blob + 6, 2);
    sl = (size_t)get_le(blob + 24, 4);
    if (hl == 0u || hl >= sizeof t->session_host || sl == 0u ||
        sl > sizeof t->session ||
        len != BLOB_HEAD + hl + sl + BLOB_SUM) {
        return refuse_blob(t, "the session blob has a wrong length "
                              "(cut short, or too large for this build)");
    }
    if (sha256(blob, len - BLOB_SUM, sum) != 0 ||
        memcmp(sum, blob + len - BLOB_SUM, BLOB_SUM) != 0) {
        return refuse_blob(t, "the session blob is damaged (its checksum "
                              "does not match)");
    }
    if (get_le(blob + 8, 4) != (uint64_t)MBEDTLS_VERSION_NUMBER) {
        return refuse_blob(t, "the session was saved by another mbedTLS "
                              "version");
    }
    saved = (int64_t)get_le(blob + 12, 8);
    life = (uint32_t)get_le(blob + 20, 4);
    now = unix_now();
    if (saved > 0 && now > 0 && now - saved > (int64_t)life) {
        return refuse_blob(t, "the saved session has expired (older than "
                              "its ticket lifetime)");
    }
    memcpy(t->session_host, blob + BLOB_HEAD, hl);
    t->session_host[hl] = '\0';
    memcpy(t->session, blob + BLOB_HEAD + hl, sl);
    t->session_len = sl;
    t->session_unix = saved;
    t->session_lifetime = life;
    t->session_imported = true;
    t->session_refused = false;
    t->session_note = "imported";
    return CW_OK;
}

const char *cw_tls_session_note(const cw_tls_t *t)
{
    return t->session_note != NULL ? t->session_note : "no saved session";
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

static const char *alert_name(unsigned a);
static const char *alert_hint(unsigned a, bool after_hello);

/* Maps a failed mbedTLS call: the inner transport's own error wins; an
 * alert from the server is named (a TLS 1.3 server that wants a client
 * certificate says so only after our side of the handshake is over, on
 * the first read). */
static int fail(cw_tls_t *t, const char *what, int code)
{
    if (t->inner_error != 0) {
        int e = t->inner_error;
        t->inner_error = 0;
        snprintf(t->error, sizeof t->error, "%s: %s", what, cw_strerror(e));
        return e;
    }
    if (code == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE &&
        CW_SSL_FIELD(&t->ssl, in_msg) != NULL) {
        unsigned a = CW_SSL_FIELD(&t->ssl, in_msg)[1];
        bool after_hello = CW_SSL_FIELD(&t->ssl, state) >
                           MBEDTLS_SSL_SERVER_HELLO;
        t->tls_error = code;
        snprintf(t->error, sizeof t->error, "%s: the server sent alert %s "
                 "(%u)%s", what, alert_name(a), a, alert_hint(a, after_hello));
        return CW_ERR_TLS;
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
    t->phase = 0; /* a connection being opened is abandoned */
}

/* The name of a TLS alert (RFC 8446 section 6, RFC 5246 section 7.2). */
static const char *alert_name(unsigned a)
{
    switch (a) {
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "unknown alert";
    }
}

/* What an alert means for us, when there is more to say than its name. */
static const char *alert_hint(unsigned a, bool after_hello)
{
    switch (a) {
    case 40:
        return after_hello ? ": the server may want a client certificate, "
                             "which chatwire does not send"
                           : ": no TLS version, cipher or group in common";
    case 70:
        return CW_HAVE_TLS13 ? ": it accepts none of the TLS versions "
                               "offered (see --tls-min/--tls-max)"
                             : ": it accepts none of the TLS versions "
                               "offered; this build has TLS 1.2 only, and "
                               "the server may require TLS 1.3 (build with "
                               "mbedTLS 3.6)";
    case 71:
        return ": it wants stronger ciphers than were offered";
    case 112:
        return ": it does not serve this host name";
    case 116:
    case 41:
        return ": it requires a client certificate, which chatwire does "
               "not send";
    case 120:
        return ": it does not speak HTTP/1.1";
    default:
        return "";
    }
}

/* Why the handshake failed, in words: a plain HTTP answer, the alert the
 * server sent, or how far the handshake got when the server hung up. */
static int handshake_failed(cw_tls_t *t, int code)
{
    int state = CW_SSL_FIELD(&t->ssl, state);
    /* past its ServerHello the server has chosen a version and a suite */
    bool after_hello = state > MBEDTLS_SSL_SERVER_HELLO;
    bool closed = t->inner_error == CW_ERR_CLOSED ||
                  t->inner_error == CW_ERR_IO;

    if (t->first_len >= 5u && memcmp(t->first, "HTTP/", 5) == 0) {
        t->inner_error = 0;
        t->tls_error = code;
        snprintf(t->error, sizeof t->error, "TLS handshake failed: the "
                 "server answered in plain HTTP: use an http:// URL for "
                 "this port, or the server's TLS port");
        return CW_ERR_TLS;
    }
    if (closed) {
        /* a server that hangs up mid-handshake refused something of
         * ours: a TLS failure, not a network one */
        bool cert_asked = t->cert_asked;
        t->inner_error = 0;
        t->tls_error = code;
        snprintf(t->error, sizeof t->error, "TLS handshake failed: the "
                 "server closed the connection %s",
                 cert_asked ? "after asking for a client certificate, which "
                              "chatwire does not send"
                 : !after_hello
                     ? (CW_HAVE_TLS13 ? "before its ServerHello (no TLS "
                                        "version or cipher in common?)"
                                      : "before its ServerHello (no TLS "
                                        "version or cipher in common? this "
                                        "build has TLS 1.2 only)")
                 : state >= MBEDTLS_SSL_CLIENT_CERTIFICATE
                     ? "after our key exchange (does it require a client "
                       "certificate? chatwire sends none)"
                     : "in the middle of the handshake");
        return CW_ERR_TLS;
    }
    return fail(t, "TLS handshake failed", code);
}

/* The handshake, to its end or a failure (connection closed after it). */
static int handshake(cw_tls_t *t)
{
    int rc;

    t->first_len = 0;
    t->cert_seen = false;
    t->resumed = false;
    t->cert_asked = false;
    t->got_data = false;
    for (;;) {
        /* step by step, to see a CertificateRequest go by: a TLS 1.3
         * server that wants a client certificate says so only after the
         * handshake, with an alert that a reset can overtake */
        int before = CW_SSL_FIELD(&t->ssl, state);
        if (before >= MBEDTLS_SSL_HANDSHAKE_OVER) {
            return CW_OK;
        }
        rc = mbedtls_ssl_handshake_step(&t->ssl);
        if (rc == 0 && before == MBEDTLS_SSL_CERTIFICATE_REQUEST &&
            CW_SSL_FIELD(&t->ssl, in_msg) != NULL &&
            CW_SSL_FIELD(&t->ssl, in_msgtype) == MBEDTLS_SSL_MSG_HANDSHAKE &&
            CW_SSL_FIELD(&t->ssl, in_msg)[0] ==
                MBEDTLS_SSL_HS_CERTIFICATE_REQUEST) {
            t->cert_asked = true;
        }
        if (rc == 0) {
            continue;
        }
        if ((rc == MBEDTLS_ERR_SSL_WANT_READ ||
             rc == MBEDTLS_ERR_SSL_WANT_WRITE) && t->stepping) {
            t->want = rc == MBEDTLS_ERR_SSL_WANT_READ ? CW_WAIT_READ
                                                      : CW_WAIT_WRITE;
            return CW_ERR_WOULD_BLOCK; /* connect_step goes on later */
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
            rc = handshake_failed(t, rc);
            tls_close(t);
            return rc;
        }
        if (time_left(t) == 0u) {
            snprintf(t->error, sizeof t->error, "TLS handshake timed out");
            tls_close(t);
            return CW_ERR_TIMEOUT;
        }
    }
}

/* What a connection begins with: the host kept for SNI and verification. */
static int begin(cw_tls_t *t, const char *host, size_t host_len)
{
    tls_close(t);
    t->error[0] = '\0';
    t->verify_flags = 0;
    t->version = NULL;
    t->retried = false;
    if (host_len == 0u || host_len >= sizeof t->host) {
        return CW_ERR_INVALID_ARG;
    }
    memcpy(t->host, host, host_len);
    t->host[host_len] = '\0';
    /* SNI and verification take the name; an IP literal is never sent as
     * SNI (RFC 6066, section 3), so mbedTLS gets none and verify_cb
     * matches the address against the certificate's iPAddress entries */
    t->host_ip_len = parse_ipv4(t->host, t->host_ip) ? 4u
                     : parse_ipv6(t->host, t->host_ip) ? 16u : 0u;
    return CW_OK;
}

/* Once the inner transport is connected: the name, and the saved session
 * offered (the first time only), before the handshake. */
static int before_handshake(cw_tls_t *t)
{
    int rc = mbedtls_ssl_set_hostname(&t->ssl, t->host_ip_len > 0u
                                                   ? NULL : t->host);
    if (rc != 0) {
        return fail(t, "TLS: bad host name", rc);
    }
    if (!t->retried) {
        t->offered = offer_session(t);
    }
    return CW_OK;
}

/* A session the server will not take (a ticket it cannot read any more, a
 * damaged secret) must not cost the connection: once more, on a new one,
 * with a full handshake. Whether that is to be done after rc. */
static bool retry_without_session(cw_tls_t *t, int rc)
{
    if (rc != CW_ERR_TLS || !t->offered || t->retried ||
        (t->inner.connect == NULL && t->inner.connect_step == NULL) ||
        (!t->stepping && time_left(t) == 0u)) {
        return false;
    }
    cw_tls_forget_session(t);
    t->retried = true;
    t->session_note = "the server refused the saved session; a full "
                      "handshake was done";
    return true;
}

/* The handshake is over: what it was, kept. */
static int after_handshake(cw_tls_t *t)
{
    if (t->offered && !t->cert_seen) {
        t->session_note = "resumed";
    } else if (t->offered && t->session_imported) {
        t->session_note = "the server declined the saved session (expired "
                          "or forgotten on its side): full handshake";
    } else if (t->offered) {
        t->session_note = "the server declined the saved session: full "
                          "handshake";
    }
    t->connected = true;
    t->version = mbedtls_ssl_get_version(&t->ssl); /* a static string */
    t->resumed = !t->cert_seen; /* an abbreviated handshake has none */
    t->handshakes++;
    t->resumptions += t->resumed ? 1u : 0u;
    save_session(t); /* TLS 1.2; TLS 1.3 tickets come later, in tls_recv */
    return CW_OK;
}

static int tls_connect(void *ctx, const char *host, size_t host_len,
                       uint16_t port, uint32_t timeout_ms)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    int rc = begin(t, host, host_len);

    t->stepping = false;
    set_deadline(t, timeout_ms);
    t->offered = false;
    while (rc == CW_OK) {
        if (t->inner.connect != NULL) {
            rc = t->inner.connect(t->inner.ctx, host, host_len, port,
                                  time_left(t));
        }
        rc = rc == CW_OK ? before_handshake(t) : rc;
        rc = rc == CW_OK ? handshake(t) : rc;
        if (!retry_without_session(t, rc)) {
            break;
        }
        rc = CW_OK;
    }
    return rc == CW_OK ? after_handshake(t) : rc;
}

/* connect_step: the same steps, none of them blocking (the inner
 * transport's connect_step, or its blocking connect when it has none). */
enum { PH_NONE, PH_INNER, PH_HANDSHAKE };

static int tls_connect_step(void *ctx, const char *host, size_t host_len,
                            uint16_t port, uint8_t *want)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    int rc = CW_OK;

    if (t->phase == PH_NONE) {
        rc = begin(t, host, host_len);
        t->offered = false;
        t->phase = PH_INNER;
    }
    t->stepping = true;
    set_deadline(t, 0); /* every inner call: no wait */
    while (rc == CW_OK) {
        if (t->phase == PH_INNER) {
            if (t->inner.connect_step != NULL) {
                rc = t->inner.connect_step(t->inner.ctx, host, host_len,
                                           port, want);
            } else if (t->inner.connect != NULL) {
                rc = t->inner.connect(t->inner.ctx, host, host_len, port,
                                      CW_DEFAULT_CONNECT_TIMEOUT_MS);
            }
            if (rc == CW_ERR_WOULD_BLOCK) {
                return rc;
            }
            rc = rc == CW_OK ? before_handshake(t) : rc;
            t->phase = PH_HANDSHAKE;
        }
        rc = rc == CW_OK ? handshake(t) : rc;
        if (rc == CW_ERR_WOULD_BLOCK) {
            *want = t->want;
            return rc;
        }
        if (!retry_without_session(t, rc)) {
            break;
        }
        t->phase = PH_INNER;
        rc = CW_OK;
    }
    t->phase = PH_NONE;
    t->stepping = false;
    return rc == CW_OK ? after_handshake(t) : rc;
}

static int tls_handle(void *ctx)
{
    cw_tls_t *t = (cw_tls_t *)ctx;
    return t->inner.handle != NULL ? t->inner.handle(t->inner.ctx) : -1;
}

/* The connection ended (closed or reset) before any answer: after a
 * CertificateRequest, that is the server refusing the empty certificate
 * list, whatever overtook its alert. */
static int ended_early(cw_tls_t *t, const char *what, int rc)
{
    if ((rc == CW_ERR_CLOSED || rc == CW_ERR_IO) && t->cert_asked &&
        !t->got_data) {
        t->tls_error = 0;
        snprintf(t->error, sizeof t->error, "%s: the server closed the "
                 "connection after the handshake, before any answer: it "
                 "had asked for a client certificate, which chatwire does "
                 "not send", what);
        return CW_ERR_TLS;
    }
    return rc;
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
    return ended_early(t, "TLS write failed", fail(t, "TLS write failed", rc));
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
        t->got_data = true;
        return (int32_t)rc;
    }
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        return ended_early(t, "TLS read failed", CW_ERR_CLOSED);
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
    return ended_early(t, "TLS read failed", fail(t, "TLS read failed", rc));
}

static uint32_t tls_now(void *ctx)
{
    return now((cw_tls_t *)ctx);
}

cw_transport_t cw_tls_transport(cw_tls_t *t)
{
    cw_transport_t tr;
    memset(&tr, 0, sizeof tr); /* the optional members too */
    tr.ctx = t;
    tr.connect = tls_connect;
    tr.connect_step = tls_connect_step;
    tr.handle = tls_handle;
    tr.send = tls_send;
    tr.recv = tls_recv;
    tr.close = tls_close;
    tr.now_ms = tls_now;
    return tr;
}
