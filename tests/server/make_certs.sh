#!/bin/sh
# make_certs.sh OUTDIR -- create the TLS test PKI used by the chatwire tests.
#
# Produces in OUTDIR (all PEM):
#   ca.pem, ca.key                 test CA (EC P-256), trust anchor for the tests
#   good.pem, good.key             server cert for localhost, SAN DNS:localhost,
#                                  IP:127.0.0.1, IP:::1 (EC P-256, signed by ca)
#   good-rsa.pem, good-rsa.key     same names, RSA-2048 key (signed by ca)
#   wronghost.pem, wronghost.key   cert for wrong.example only (signed by ca)
#   expired.pem, expired.key       localhost cert valid 2020-01-01..2021-01-01
#   future.pem, future.key         localhost cert valid 2090-01-01..2091-01-01
#   selfsigned.pem, selfsigned.key self-signed localhost cert (no CA)
#   otherca.pem, otherca.key       an unrelated CA, for "unknown CA" tests
#
# Idempotent: if every file exists and good.pem is valid for at least one more
# day, nothing is done.  Otherwise everything is regenerated in a private
# temporary directory and moved into place.  Only the openssl CLI is used.
# Quiet on success; on failure the openssl output is printed and the exit
# status is non-zero.

set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
OUT=$1
FILES="ca.pem ca.key good.pem good.key good-rsa.pem good-rsa.key \
wronghost.pem wronghost.key expired.pem expired.key future.pem future.key \
selfsigned.pem selfsigned.key otherca.pem otherca.key"

mkdir -p "$OUT"

# ---- fast path: already done? ------------------------------------------------
complete=1
for f in $FILES; do
    [ -s "$OUT/$f" ] || { complete=0; break; }
done
if [ $complete = 1 ] &&
   openssl x509 -in "$OUT/good.pem" -noout -checkend 86400 >/dev/null 2>&1; then
    exit 0
fi

# ---- work area (inside OUTDIR so the final mv is a rename) -----------------
TMP=$(mktemp -d "$OUT/.make_certs.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
LOG="$TMP/openssl.log"

# run CMD... : run quietly, show the output only if it fails.
run() {
    if ! "$@" >"$LOG" 2>&1; then
        echo "make_certs.sh: command failed: $*" >&2
        cat "$LOG" >&2
        exit 1
    fi
}

# Private OpenSSL config so the system openssl.cnf (default extensions etc.)
# cannot change the result.
CNF="$TMP/openssl.cnf"
cat >"$CNF" <<EOF
[ req ]
distinguished_name = dn
prompt             = no
[ dn ]
CN = unused

[ v3_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ v3_good ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ v3_good_rsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ v3_wronghost ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:wrong.example
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ v3_selfsigned ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyCertSign
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash

# "openssl ca" is used only for the expired cert (OpenSSL 3.0's x509 command
# cannot set an arbitrary notBefore/notAfter).
[ ca ]
default_ca = test_ca
[ test_ca ]
dir           = $TMP/cadb
database      = \$dir/index.txt
serial        = \$dir/serial
new_certs_dir = \$dir
certificate   = $TMP/ca.pem
private_key   = $TMP/ca.key
default_md    = sha256
policy        = policy_any
unique_subject = no
copy_extensions = none
email_in_dn   = no
[ policy_any ]
commonName = supplied
EOF

eckey()  { run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/$1"; }
rsakey() { run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/$1"; }
serial() { echo "0x$(openssl rand -hex 8 | sed 's/^./4/')"; }   # positive, unique

# self_signed NAME CN EXT DAYS
self_signed() {
    run openssl req -new -x509 -config "$CNF" -key "$TMP/$1.key" \
        -subj "/CN=$2" -extensions "$3" -days "$4" -sha256 \
        -set_serial "$(serial)" -out "$TMP/$1.pem"
}
# leaf NAME CN EXT : CSR + sign with the test CA (valid ~2 years)
leaf() {
    run openssl req -new -config "$CNF" -key "$TMP/$1.key" -subj "/CN=$2" \
        -out "$TMP/$1.csr"
    run openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
        -set_serial "$(serial)" -days 825 -sha256 \
        -extfile "$CNF" -extensions "$3" -out "$TMP/$1.pem"
}

# Test CA and an unrelated CA.
eckey ca.key
self_signed ca "chatwire test CA" v3_ca 3650
eckey otherca.key
self_signed otherca "chatwire other (untrusted) CA" v3_ca 3650

# Server certs signed by the test CA.
eckey good.key
leaf good localhost v3_good
rsakey good-rsa.key
leaf good-rsa localhost v3_good_rsa
eckey wronghost.key
leaf wronghost wrong.example v3_wronghost

# Expired cert: 2020-01-01 .. 2021-01-01, signed by the test CA.
eckey expired.key
mkdir "$TMP/cadb"
: >"$TMP/cadb/index.txt"
serial | sed 's/^0x//' >"$TMP/cadb/serial"
run openssl req -new -config "$CNF" -key "$TMP/expired.key" -subj "/CN=localhost" \
    -out "$TMP/expired.csr"
run openssl ca -batch -notext -config "$CNF" -in "$TMP/expired.csr" \
    -startdate 20200101000000Z -enddate 20210101000000Z \
    -extfile "$CNF" -extensions v3_good -out "$TMP/expired.pem"

# Not yet valid: 2090-01-01 .. 2091-01-01 (a device whose clock is behind).
eckey future.key
run openssl req -new -config "$CNF" -key "$TMP/future.key" -subj "/CN=localhost" \
    -out "$TMP/future.csr"
run openssl ca -batch -notext -config "$CNF" -in "$TMP/future.csr" \
    -startdate 20900101000000Z -enddate 20910101000000Z \
    -extfile "$CNF" -extensions v3_good -out "$TMP/future.pem"

# Self-signed localhost cert.
eckey selfsigned.key
self_signed selfsigned localhost v3_selfsigned 3650

# Install.
for f in $FILES; do
    mv -f "$TMP/$f" "$OUT/$f"
done
exit 0
