/*
 * cw_trust_anchors.h - trust anchors compiled into flash as DER.
 *
 * scripts/gen-trust-anchors.sh OUT.c writes the table from Debian's
 * ca-certificates (ISRG Root X1/X2, GTS Root R1/R4, GlobalSign Root CA, ...;
 * the script explains the choice). Replace the list for your servers:
 * CW_TRUST_ANCHORS="Name_A Name_B" scripts/gen-trust-anchors.sh OUT.c, or
 * write the same table by hand. Load it with cw_tls_mcu_add_anchors().
 */
#ifndef CW_TRUST_ANCHORS_H
#define CW_TRUST_ANCHORS_H

#include <stddef.h>

typedef struct cw_trust_anchor {
    const char *name;         /* file name in ca-certificates, for logs */
    const unsigned char *der; /* the certificate, DER, in flash */
    size_t der_len;
} cw_trust_anchor_t;

/* Defined by the generated file. */
extern const cw_trust_anchor_t cw_trust_anchors[];
extern const size_t cw_trust_anchor_count;

#endif /* CW_TRUST_ANCHORS_H */
