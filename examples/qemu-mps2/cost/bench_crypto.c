/*
 * bench_crypto.c - what each public-key operation, hash and record cipher
 * of a TLS handshake and stream costs on the Cortex-M4, in the mbedTLS
 * build the firmware links, called the way TLS calls it (PSA for TLS 1.3's
 * ECDHE and, with MBEDTLS_USE_PSA_CRYPTO, for signatures and records).
 * For scripts/mcu-cost.sh, which prints the table.
 *
 * Prints one line per measurement:
 *   bench: op=NAME ticks=T [bytes=B]
 * in Timer0 ticks (40 instructions each under QEMU -icount shift=0).
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/cipher.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "cw_trust_anchors.h"

extern const unsigned char cw_fw_test_ca[];
extern const size_t cw_fw_test_ca_len;
extern const unsigned char cw_fw_test_leaf[];
extern const size_t cw_fw_test_leaf_len;

#define RECORD 16384u
static uint8_t plain[RECORD];
static uint8_t sealed[RECORD + 16u];
static uint8_t opened[RECORD + 16u];

static void report(const char *op, uint64_t ticks, size_t bytes)
{
    if (bytes > 0u) {
        printf("bench: op=%s ticks=%lu bytes=%lu\n", op, (unsigned long)ticks,
               (unsigned long)bytes);
    } else {
        printf("bench: op=%s ticks=%lu\n", op, (unsigned long)ticks);
    }
}

static int fail(const char *what, long code)
{
    printf("bench: FAIL %s: %ld\n", what, code);
    return 1;
}

/* ECDHE as TLS 1.3 does it (ssl_tls13_generic.c): psa_generate_key,
 * psa_export_public_key, then psa_raw_key_agreement with the peer's
 * share. */
static int ecdhe(const char *name, psa_key_type_t type, size_t bits)
{
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_svc_key_id_t mine;
    mbedtls_svc_key_id_t peer;
    uint8_t pub[133];
    uint8_t peer_pub[133];
    uint8_t secret[66];
    size_t pub_len;
    size_t peer_len;
    size_t secret_len;
    char op[48];
    uint64_t t0;
    int round;

    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&a, PSA_ALG_ECDH);
    psa_set_key_type(&a, type);
    psa_set_key_bits(&a, bits);
    if (psa_generate_key(&a, &peer) != PSA_SUCCESS ||
        psa_export_public_key(peer, peer_pub, sizeof peer_pub, &peer_len) !=
            PSA_SUCCESS) {
        return fail("peer key", 0);
    }
    for (round = 0; round < 2; round++) {
        psa_status_t st;
        t0 = fw_ticks();
        st = psa_generate_key(&a, &mine);
        snprintf(op, sizeof op, "%s_generate", name);
        report(op, fw_ticks() - t0, 0);
        if (st != PSA_SUCCESS) {
            return fail(op, st);
        }
        t0 = fw_ticks();
        st = psa_export_public_key(mine, pub, sizeof pub, &pub_len);
        snprintf(op, sizeof op, "%s_export_public", name);
        report(op, fw_ticks() - t0, 0);
        if (st != PSA_SUCCESS) {
            return fail(op, st);
        }
        t0 = fw_ticks();
        st = psa_raw_key_agreement(PSA_ALG_ECDH, mine, peer_pub, peer_len,
                                   secret, sizeof secret, &secret_len);
        snprintf(op, sizeof op, "%s_shared_secret", name);
        report(op, fw_ticks() - t0, 0);
        if (st != PSA_SUCCESS) {
            return fail(op, st);
        }
        (void)psa_destroy_key(mine);
    }
    (void)psa_destroy_key(peer);
    return 0;
}

/* The signature of crt checked with the public key of signer, through
 * mbedtls_pk_verify_ext as X.509 does (PSA with MBEDTLS_USE_PSA_CRYPTO). */
static int verify_sig(const char *op, mbedtls_x509_crt *crt,
                      mbedtls_pk_context *signer)
{
    uint8_t hash[MBEDTLS_MD_MAX_SIZE];
    const mbedtls_md_info_t *md =
        mbedtls_md_info_from_type(crt->MBEDTLS_PRIVATE(sig_md));
    uint64_t t0;
    int rc;
    int round;

    if (md == NULL ||
        mbedtls_md(md, crt->tbs.p, crt->tbs.len, hash) != 0) {
        return fail(op, -1);
    }
    for (round = 0; round < 2; round++) {
        t0 = fw_ticks();
        rc = mbedtls_pk_verify_ext(crt->MBEDTLS_PRIVATE(sig_pk),
                                   crt->MBEDTLS_PRIVATE(sig_opts), signer,
                                   crt->MBEDTLS_PRIVATE(sig_md), hash,
                                   mbedtls_md_get_size(md),
                                   crt->MBEDTLS_PRIVATE(sig).p,
                                   crt->MBEDTLS_PRIVATE(sig).len);
        report(op, fw_ticks() - t0, 0);
        if (rc != 0) {
            return fail(op, rc);
        }
    }
    return 0;
}

static int signatures(void)
{
    mbedtls_x509_crt ca;
    mbedtls_x509_crt leaf;
    mbedtls_x509_crt root;
    uint32_t flags = 0;
    uint64_t t0;
    size_t i;
    int rc = 0;

    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&leaf);
    if (mbedtls_x509_crt_parse_der(&ca, cw_fw_test_ca, cw_fw_test_ca_len) !=
            0 ||
        mbedtls_x509_crt_parse_der(&leaf, cw_fw_test_leaf,
                                   cw_fw_test_leaf_len) != 0) {
        return fail("parse test certificates", 0);
    }
    /* the test leaf (EC P-256) as the test CA (EC P-256) signed it */
    rc = verify_sig("ecdsa_p256_verify", &leaf, &ca.pk);
    /* the whole chain check of a handshake: that signature, names,
     * dates, key usage */
    t0 = fw_ticks();
    if (rc == 0 && mbedtls_x509_crt_verify(&leaf, &ca, NULL, "localhost",
                                           &flags, NULL, NULL) != 0) {
        rc = fail("x509 chain", (long)flags);
    }
    report("x509_verify_leaf", fw_ticks() - t0, 0);
    /* roots, each checked against its own key: P-384 (ISRG Root X2),
     * RSA-2048 (GlobalSign Root CA), RSA-4096 (ISRG Root X1) */
    for (i = 0; rc == 0 && i < cw_trust_anchor_count; i++) {
        const char *name = cw_trust_anchors[i].name;
        const char *op = strstr(name, "ISRG_Root_X2") ? "ecdsa_p384_verify"
                         : strstr(name, "GlobalSign_Root_CA") ? "rsa2048_verify"
                         : strstr(name, "ISRG_Root_X1") ? "rsa4096_verify"
                                                        : NULL;
        if (op == NULL) {
            continue;
        }
        mbedtls_x509_crt_init(&root);
        if (mbedtls_x509_crt_parse_der_nocopy(&root, cw_trust_anchors[i].der,
                                              cw_trust_anchors[i].der_len) ==
            0) {
            rc = verify_sig(op, &root, &root.pk);
        }
        mbedtls_x509_crt_free(&root);
    }
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&leaf);
    return rc;
}

static int hashes(void)
{
    static const struct {
        const char *op;
        psa_algorithm_t alg;
    } h[] = { { "sha256", PSA_ALG_SHA_256 }, { "sha384", PSA_ALG_SHA_384 } };
    uint8_t out[64];
    size_t n;
    size_t i;
    uint64_t t0;

    for (i = 0; i < sizeof h / sizeof h[0]; i++) {
        char op[32];
        t0 = fw_ticks();
        (void)psa_hash_compute(h[i].alg, plain, 1024u, out, sizeof out, &n);
        snprintf(op, sizeof op, "%s_1k", h[i].op);
        report(op, fw_ticks() - t0, 1024u);
        t0 = fw_ticks();
        (void)psa_hash_compute(h[i].alg, plain, RECORD, out, sizeof out, &n);
        snprintf(op, sizeof op, "%s_16k", h[i].op);
        report(op, fw_ticks() - t0, RECORD);
    }
    return 0;
}

/* A record's decryption, both ways TLS does it: psa_aead_decrypt with a key
 * id (MBEDTLS_USE_PSA_CRYPTO: the key schedule is redone per record), and
 * mbedtls_cipher_auth_decrypt_ext on a context keyed once. 1 KiB and 16 KiB
 * records: the slope is the per-KiB cost, the rest the per-record one. */
static int aead(const char *name, psa_key_type_t type, size_t bits,
                psa_algorithm_t alg, mbedtls_cipher_type_t ctype)
{
    static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    static const uint8_t nonce[12] = { 9, 8, 7 };
    static const uint8_t ad[5] = { 23, 3, 3, 0x40, 0x11 };
    static const size_t sizes[2] = { 1024u, RECORD };
    psa_key_attributes_t a = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_svc_key_id_t id;
    mbedtls_cipher_context_t ctx;
    char op[48];
    size_t k;
    size_t n;
    uint64_t t0;
    int rc = 0;

    psa_set_key_usage_flags(&a, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_set_key_algorithm(&a, alg);
    psa_set_key_type(&a, type);
    psa_set_key_bits(&a, bits);
    if (psa_import_key(&a, key, bits / 8u, &id) != PSA_SUCCESS) {
        return fail(name, 0);
    }
    mbedtls_cipher_init(&ctx);
    if (mbedtls_cipher_setup(&ctx, mbedtls_cipher_info_from_type(ctype)) != 0 ||
        mbedtls_cipher_setkey(&ctx, key, (int)bits, MBEDTLS_DECRYPT) != 0) {
        return fail(name, 1);
    }
    for (k = 0; k < 2u && rc == 0; k++) {
        size_t len = sizes[k];
        psa_status_t st;
        if (psa_aead_encrypt(id, alg, nonce, sizeof nonce, ad, sizeof ad,
                             plain, len, sealed, sizeof sealed, &n) !=
            PSA_SUCCESS) {
            return fail(name, 2);
        }
        t0 = fw_ticks();
        st = psa_aead_decrypt(id, alg, nonce, sizeof nonce, ad, sizeof ad,
                              sealed, n, opened, sizeof opened, &n);
        snprintf(op, sizeof op, "%s_psa_%luk", name,
                 (unsigned long)(len / 1024u));
        report(op, fw_ticks() - t0, len);
        if (st != PSA_SUCCESS || memcmp(opened, plain, len) != 0) {
            return fail(op, st);
        }
        t0 = fw_ticks();
        rc = mbedtls_cipher_auth_decrypt_ext(&ctx, nonce, sizeof nonce, ad,
                                             sizeof ad, sealed, len + 16u,
                                             opened, sizeof opened, &n, 16u);
        snprintf(op, sizeof op, "%s_cipher_%luk", name,
                 (unsigned long)(len / 1024u));
        report(op, fw_ticks() - t0, len);
        if (rc != 0 || memcmp(opened, plain, len) != 0) {
            return fail(op, rc);
        }
    }
    mbedtls_cipher_free(&ctx);
    (void)psa_destroy_key(id);
    return rc;
}

static int rng(void *ctx, unsigned char *out, size_t len)
{
    return cw_insecure_test_entropy(ctx, out, len);
}

/* The legacy ECP module's parts (what PSA's built-in P-256 uses): a
 * multiplication of the base point (fixed-point comb tables, when the
 * configuration has them), of another point, the two of a signature check
 * (muladd), and one modular inversion. */
static int ecp_parts(void)
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_ecp_point r;
    mbedtls_mpi d;
    mbedtls_mpi e;
    uint64_t t0;
    int rc;

    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_ecp_point_init(&r);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&e);
    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    rc = rc != 0 ? rc : mbedtls_ecp_gen_privkey(&grp, &d, rng, NULL);
    rc = rc != 0 ? rc : mbedtls_ecp_gen_privkey(&grp, &e, rng, NULL);
    t0 = fw_ticks();
    rc = rc != 0 ? rc : mbedtls_ecp_mul(&grp, &q, &d, &grp.G, rng, NULL);
    report("ecp_p256_mul_base", fw_ticks() - t0, 0);
    t0 = fw_ticks();
    rc = rc != 0 ? rc : mbedtls_ecp_mul(&grp, &r, &e, &q, rng, NULL);
    report("ecp_p256_mul_point", fw_ticks() - t0, 0);
    t0 = fw_ticks();
    rc = rc != 0 ? rc : mbedtls_ecp_muladd(&grp, &r, &d, &grp.G, &e, &q);
    report("ecp_p256_muladd", fw_ticks() - t0, 0);
    t0 = fw_ticks();
    rc = rc != 0 ? rc : mbedtls_mpi_inv_mod(&e, &d, &grp.P);
    report("mpi_p256_inv_mod", fw_ticks() - t0, 0);
    mbedtls_ecp_group_free(&grp);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_point_free(&r);
    mbedtls_mpi_free(&d);
    mbedtls_mpi_free(&e);
    return rc != 0 ? fail("ecp parts", rc) : 0;
}

int bench_crypto(void)
{
    size_t i;
    int rc;

    for (i = 0; i < sizeof plain; i++) {
        plain[i] = (uint8_t)(i * 7u);
    }
    rc = ecdhe("p256", PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1),
               256u);
    if (rc == 0) {
        rc = ecdhe("x25519",
                   PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY), 255u);
    }
    if (rc == 0) {
        rc = ecp_parts();
    }
    if (rc == 0) {
        rc = signatures();
    }
    if (rc == 0) {
        rc = hashes();
    }
    if (rc == 0) {
        rc = aead("aes128gcm", PSA_KEY_TYPE_AES, 128u, PSA_ALG_GCM,
                  MBEDTLS_CIPHER_AES_128_GCM);
    }
    if (rc == 0) {
        rc = aead("aes256gcm", PSA_KEY_TYPE_AES, 256u, PSA_ALG_GCM,
                  MBEDTLS_CIPHER_AES_256_GCM);
    }
    if (rc == 0) {
        rc = aead("chachapoly", PSA_KEY_TYPE_CHACHA20, 256u,
                  PSA_ALG_CHACHA20_POLY1305, MBEDTLS_CIPHER_CHACHA20_POLY1305);
    }
    return rc;
}
