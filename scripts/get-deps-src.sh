#!/usr/bin/env bash
# get-deps-src.sh - fetch third-party SOURCE from Debian source packages and
# build what chatwire needs for host builds/tests.
#
#   * mbedTLS 3.6.x (Debian trixie source package) -> built & installed as
#     static, -fPIC, Release libraries into <prefix>/mbedtls-3.6/
#   * lwIP 2.2.1 (Debian trixie source package) -> unpacked only (for a later
#     MCU port) into <prefix>/src/
#
# Nothing fetched here is meant to be committed (see /third_party/ in
# .gitignore).  The Debian archive location is NOT hard-coded: the deb-src
# entry reuses the URIs/Signed-By of the first stanza of the system's
# /etc/apt/sources.list.d/debian.sources (or the first "deb" line of
# /etc/apt/sources.list as a fallback).
#
# Usage: scripts/get-deps-src.sh [--prefix DIR] [--only mbedtls|lwip]
#                                [-j N] [--verbose] [--no-verify] [-h]
#
# On success the last lines on STDOUT are (all chatter goes to stderr/log):
#   MBEDTLS_3_6_DIR=/abs/path/third_party/mbedtls-3.6
#   LWIP_SRC_DIR=/abs/path/third_party/src/lwip-2.2.1+dfsg1
# so a caller can do:  eval "$(scripts/get-deps-src.sh)"
#                      cmake -DCW_MBEDTLS_ROOT="$MBEDTLS_3_6_DIR" ...
#
# Environment overrides (rarely needed):
#   MBEDTLS_DEB_VERSION  (default 3.6.6-0.1~deb13u1)
#   LWIP_DEB_VERSION     (default 2.2.1+dfsg1-1+deb13u1)
#   DEB_SRC_SUITE        (default trixie)
#   CC                   (compiler for the build and the smoke test)
#
# Needs root (or passwordless sudo) only when it must add the deb-src entry,
# run apt-get update, or install missing tools (dpkg-dev, cmake, ...).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

readonly SCRIPT_NAME=get-deps-src
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

MBEDTLS_DEB_VERSION=${MBEDTLS_DEB_VERSION:-3.6.6-0.1~deb13u1}
LWIP_DEB_VERSION=${LWIP_DEB_VERSION:-2.2.1+dfsg1-1+deb13u1}
DEB_SRC_SUITE=${DEB_SRC_SUITE:-trixie}
DEB_SRC_COMPONENT=main
SRC_ENTRY_FILE=/etc/apt/sources.list.d/chatwire-${DEB_SRC_SUITE}-src.sources
SYSTEM_DEB822=/etc/apt/sources.list.d/debian.sources
SYSTEM_ONELINE=/etc/apt/sources.list

# TLS options chatwire relies on; they are on by default in 3.6 but we make
# sure (and turn them on in the unpacked tree if a future default changes).
REQUIRED_MBEDTLS_OPTS=(
    MBEDTLS_SSL_PROTO_TLS1_3
    MBEDTLS_SSL_SESSION_TICKETS
    MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED
    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
    MBEDTLS_PSA_CRYPTO_C
    # no copies of caller buffers inside PSA: the client shares none with an
    # untrusted party, and the copy cost a 16 KB heap peak in the TLS 1.3
    # key exchange (scripts/bench.sh, massif)
    MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS
)
# Reported only (not changed).
REPORT_MBEDTLS_OPTS=(
    MBEDTLS_USE_PSA_CRYPTO
    MBEDTLS_SSL_PROTO_TLS1_2
    MBEDTLS_SSL_SERVER_NAME_INDICATION
    MBEDTLS_SSL_ALPN
    MBEDTLS_SSL_EARLY_DATA
    MBEDTLS_THREADING_C
)

# ----------------------------------------------------------------- options --
PREFIX=""
ONLY=""
JOBS=""
VERBOSE=0
VERIFY=1

usage() {
    sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

die() { printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix)   [[ $# -ge 2 && -n "$2" ]] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; [[ -n "$PREFIX" ]] || die "--prefix needs a directory"; shift ;;
        --only)     [[ $# -ge 2 ]] || die "--only needs 'mbedtls' or 'lwip'"; ONLY=$2; shift 2 ;;
        --only=*)   ONLY=${1#*=}; shift ;;
        -j)         [[ $# -ge 2 ]] || die "-j needs a number"; JOBS=$2; shift 2 ;;
        -j*)        JOBS=${1#-j}; shift ;;
        --jobs=*)   JOBS=${1#*=}; shift ;;
        -v|--verbose) VERBOSE=1; shift ;;
        --no-verify)  VERIFY=0; shift ;;
        -h|--help)  usage; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done

case "$ONLY" in
    ""|mbedtls|lwip) ;;
    *) die "--only must be 'mbedtls' or 'lwip' (got '$ONLY')" ;;
esac
want() { [[ -z "$ONLY" || "$ONLY" == "$1" ]]; }

if [[ -z "$JOBS" ]]; then
    JOBS=$(nproc 2>/dev/null || echo 2)
fi
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "-j expects a positive integer (got '$JOBS')"

# Default prefix is <repo>/third_party; a relative --prefix is relative to
# the current directory (like any other CLI tool).
PREFIX=${PREFIX:-$REPO_ROOT/third_party}
mkdir -p "$PREFIX" || die "cannot create prefix directory '$PREFIX'"
PREFIX=$(cd "$PREFIX" && pwd)

SRC_DIR=$PREFIX/src
BUILD_ROOT=$PREFIX/build
MBEDTLS_INSTALL_DIR=$PREFIX/mbedtls-3.6
LOG_DIR=$PREFIX/logs
LOG_FILE=$LOG_DIR/$SCRIPT_NAME.log
mkdir -p "$SRC_DIR" "$BUILD_ROOT" "$LOG_DIR"

# ----------------------------------------------------------------- logging --
: >"$LOG_FILE"
START_TS=$(date +%s)

log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >>"$LOG_FILE"; }
say()  { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; log "$*"; }
warn() { printf '%s: warning: %s\n' "$SCRIPT_NAME" "$*" >&2; log "WARNING: $*"; }

fail() {
    # fail MESSAGE : print message + log tail, then exit.
    local n=40
    [[ "${CI:-}" == "true" ]] && n=150
    {
        printf '%s: error: %s\n' "$SCRIPT_NAME" "$1"
        printf '%s: ---- last %d lines of %s ----\n' "$SCRIPT_NAME" "$n" "$LOG_FILE"
        tail -n "$n" "$LOG_FILE" | sed 's/^/  | /'
        printf '%s: ---- end of log excerpt ----\n' "$SCRIPT_NAME"
    } >&2
    exit 1
}

# run DESCRIPTION CMD... : run a command, output to the log (and terminal in
# --verbose mode); on failure show what failed plus the log tail.
run() {
    local desc=$1; shift
    log "+ $*"
    local rc=0
    if [[ $VERBOSE -eq 1 ]]; then
        "$@" 2>&1 | tee -a "$LOG_FILE" >&2 || rc=$?
    else
        "$@" >>"$LOG_FILE" 2>&1 || rc=$?
    fi
    [[ $rc -eq 0 ]] || fail "$desc failed (exit $rc): $*"
}

trap 'rc=$?; [[ $rc -ne 0 ]] && printf "%s: aborted (exit %d) at line %d; log: %s\n" "$SCRIPT_NAME" "$rc" "$LINENO" "$LOG_FILE" >&2; exit $rc' ERR

log "get-deps-src.sh: prefix=$PREFIX only=${ONLY:-all} jobs=$JOBS CI=${CI:-}"

# Serialise concurrent invocations on the same prefix (e.g. parallel CI jobs).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$PREFIX/.get-deps-src.lock"
    flock -w 1800 9 || die "timed out waiting for lock $PREFIX/.get-deps-src.lock"
fi

# ------------------------------------------------------------ root helpers --
SUDO=()
need_root() {
    # need_root WHY
    if [[ $(id -u) -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n env DEBIAN_FRONTEND=noninteractive)
    else
        die "root privileges needed to $1; re-run as root (or with passwordless sudo)"
    fi
}

APT_OPTS=(-y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600)
APT_UPDATED_FULL=0

apt_full_update() {
    [[ $APT_UPDATED_FULL -eq 1 ]] && return 0
    need_root "run apt-get update"
    say "running apt-get update"
    run "apt-get update" "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update
    APT_UPDATED_FULL=1
}

# ensure_pkgs PKG... : install Debian packages that are not installed yet.
ensure_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    need_root "install ${missing[*]}"
    # A fresh container may have no package lists at all.
    if ! apt-cache show "${missing[0]}" >/dev/null 2>&1; then
        apt_full_update
    fi
    say "installing ${missing[*]}"
    run "apt-get install ${missing[*]}" \
        "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install --no-install-recommends "${missing[@]}"
}

# ensure_cmd CMD PKG : make sure CMD exists, installing PKG if not.
ensure_cmd() {
    command -v "$1" >/dev/null 2>&1 && return 0
    ensure_pkgs "$2"
    command -v "$1" >/dev/null 2>&1 || die "'$1' still not found after installing $2"
}

# ------------------------------------------------ deb-src entry for trixie --
# Prints "URIS<TAB>SIGNED_BY" taken from the system's Debian entry.
system_debian_entry() {
    if [[ -r "$SYSTEM_DEB822" ]]; then
        # First non-disabled stanza that has Types containing "deb" and URIs.
        # Comment lines are skipped; multi-line Signed-By (inline key) is not
        # supported - only a keyring path is copied.
        awk '
            function flush() {
                if (!done && uris != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
                    printf "%s\t%s\n", uris, signed; done = 1
                }
                uris = ""; signed = ""; types = ""; enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            {
                line = $0
                key = tolower(line); sub(/:.*/, "", key)
                val = line; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
                if (key == "uris") uris = val
                else if (key == "signed-by") signed = val
                else if (key == "types") types = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { flush() }
        ' "$SYSTEM_DEB822"
        return 0
    fi
    if [[ -r "$SYSTEM_ONELINE" ]]; then
        # deb [opt=val ...] URI suite components
        awk '
            /^[ \t]*deb[ \t]/ {
                signed = ""; i = 2
                if ($2 ~ /^\[/) {
                    opts = ""
                    for (; i <= NF; i++) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } }
                    if (match(opts, /signed-by=[^] \t]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
                }
                printf "%s\t%s\n", $i, signed; exit
            }
        ' "$SYSTEM_ONELINE"
    fi
}

ENTRY_ADDED=0
ensure_deb_src_entry() {
    local entry uris signed content
    entry=$(system_debian_entry)
    [[ -n "$entry" ]] || die "could not find a Debian 'deb' entry in $SYSTEM_DEB822 or $SYSTEM_ONELINE to copy URIs/Signed-By from"
    uris=${entry%%$'\t'*}
    signed=${entry#*$'\t'}
    [[ -n "$uris" ]] || die "the first Debian stanza in $SYSTEM_DEB822 has no URIs"
    # One-line sources.list entries often carry no signed-by; the Debian
    # keyring file holds every release key (bookworm's includes trixie).
    if [[ -z "$signed" && -r /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
        signed=/usr/share/keyrings/debian-archive-keyring.gpg
    fi
    if [[ -n "$signed" && "$signed" == /* && ! -r "$signed" ]]; then
        die "keyring '$signed' referenced by the system Debian entry is missing (install debian-archive-keyring)"
    fi
    content="# Added by chatwire scripts/get-deps-src.sh (third-party source packages).
Types: deb-src
URIs: $uris
Suites: $DEB_SRC_SUITE
Components: $DEB_SRC_COMPONENT"
    [[ -n "$signed" ]] && content+=$'\n'"Signed-By: $signed"

    if [[ -f "$SRC_ENTRY_FILE" ]] && [[ "$(cat "$SRC_ENTRY_FILE")" == "$content" ]]; then
        log "deb-src entry $SRC_ENTRY_FILE already present"
        return 0
    fi
    need_root "write $SRC_ENTRY_FILE"
    say "adding deb-src entry $SRC_ENTRY_FILE (suite $DEB_SRC_SUITE, component $DEB_SRC_COMPONENT)"
    printf '%s\n' "$content" | "${SUDO[@]}" tee "$SRC_ENTRY_FILE" >/dev/null \
        || die "cannot write $SRC_ENTRY_FILE"
    log "$(cat "$SRC_ENTRY_FILE")"
    ENTRY_ADDED=1
}

# Update only the lists of our deb-src entry (fast, and unaffected by broken
# third-party repositories configured on the machine).
apt_update_src_entry() {
    need_root "run apt-get update"
    local parts
    parts=$(mktemp -d)
    say "running apt-get update for $SRC_ENTRY_FILE"
    run "apt-get update (deb-src $DEB_SRC_SUITE)" "${SUDO[@]}" apt-get "${APT_OPTS[@]}" \
        -o Dir::Etc::SourceList="$SRC_ENTRY_FILE" \
        -o Dir::Etc::SourceParts="$parts" \
        -o APT::Get::List-Cleanup=0 update
    rmdir "$parts"
}

src_version_available() {
    # src_version_available PKG VERSION
    apt-cache showsrc --only-source "$1" 2>/dev/null | grep -qxF "Version: $2"
}

src_versions_list() {
    apt-cache showsrc --only-source "$1" 2>/dev/null | sed -n 's/^Version: //p' | sort -u | tr '\n' ' '
}

APT_SRC_READY=0
ensure_apt_source_ready() {
    # ensure_apt_source_ready PKG VERSION
    local pkg=$1 ver=$2
    if [[ $APT_SRC_READY -eq 0 ]]; then
        ensure_deb_src_entry
        ensure_cmd dpkg-source dpkg-dev
        APT_SRC_READY=1
        if [[ $ENTRY_ADDED -eq 1 ]]; then
            apt_update_src_entry
        fi
    fi
    if ! src_version_available "$pkg" "$ver"; then
        apt_update_src_entry
        src_version_available "$pkg" "$ver" || die "source package $pkg=$ver is not available from the $DEB_SRC_SUITE deb-src entry. Available: $(src_versions_list "$pkg")- override with ${pkg^^}_DEB_VERSION=<version> if the archive moved on."
    fi
}

# ------------------------------------------------------- fetch source pkgs --
# fetch_source PKG VERSION -> prints unpacked directory
fetch_source() {
    local pkg=$1 ver=$2
    local nover=${ver#*:}
    local upstream=${nover%-*}
    local dir=$SRC_DIR/$pkg-$upstream
    local stamp=$SRC_DIR/.$pkg-$upstream.unpacked

    if [[ -d "$dir" && -f "$stamp" && "$(cat "$stamp")" == "$ver" ]]; then
        say "$pkg $ver already unpacked in $dir"
        FETCHED_DIR=$dir
        return 0
    fi
    ensure_apt_source_ready "$pkg" "$ver"
    if [[ -e "$dir" ]]; then
        say "removing incomplete/stale $dir"
        rm -rf "$dir"
    fi
    rm -f "$stamp"
    say "fetching source package $pkg=$ver into $SRC_DIR"
    local sandbox=()
    [[ $(id -u) -eq 0 ]] && sandbox=(-o APT::Sandbox::User=root)
    # dpkg-source -x (run by apt-get source) applies debian/patches itself
    # for "3.0 (quilt)" packages; quilt is not needed.
    (cd "$SRC_DIR" && run "apt-get source $pkg=$ver" \
        apt-get -q "${sandbox[@]}" source --only-source "$pkg=$ver")
    [[ -d "$dir" ]] || fail "apt-get source did not produce $dir"
    if [[ -f "$dir/debian/patches/series" ]]; then
        log "$pkg: Debian patches applied by dpkg-source: $(grep -v '^#' "$dir/debian/patches/series" | tr '\n' ' ')"
    fi
    printf '%s\n' "$ver" >"$stamp"
    FETCHED_DIR=$dir
}

# ------------------------------------------------------------------ mbedTLS --
cfg_get() {
    # cfg_get SRC NAME -> 0 if NAME is #defined (uncommented) in the config.
    # This is what "scripts/config.py get" checks for boolean options; grep is
    # used because config.py costs ~0.1s per call.  The smoke test later
    # re-checks the effective config through the preprocessor.
    grep -Eq "^[[:space:]]*#[[:space:]]*define[[:space:]]+$2([[:space:]]|$)" \
        "$1/include/mbedtls/mbedtls_config.h"
}

cfg_set() {
    local src=$1 name=$2
    if [[ $HAVE_PY -eq 1 ]]; then
        (cd "$src" && python3 scripts/config.py -f include/mbedtls/mbedtls_config.h set "$name")
    else
        sed -i -E "s@^[[:space:]]*//[[:space:]]*#[[:space:]]*define[[:space:]]+$name([[:space:]]|$)@#define $name\\1@" \
            "$src/include/mbedtls/mbedtls_config.h"
    fi
}

cfg_unset() {
    local src=$1 name=$2
    sed -i -E "s@^[[:space:]]*#[[:space:]]*define[[:space:]]+$name([[:space:]]|$)@//#define $name\\1@" \
        "$src/include/mbedtls/mbedtls_config.h"
}

check_mbedtls_config() {
    local src=$1 o
    HAVE_PY=0
    command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(sys.version_info < (3, 6))' 2>/dev/null && HAVE_PY=1
    if [[ $HAVE_PY -eq 1 ]]; then
        # Cross-check grep against the upstream tool once (needs framework/).
        if (cd "$src" && python3 scripts/config.py -f include/mbedtls/mbedtls_config.h get MBEDTLS_SSL_PROTO_TLS1_3) >>"$LOG_FILE" 2>&1; then
            log "config.py get MBEDTLS_SSL_PROTO_TLS1_3: enabled"
        else
            warn "scripts/config.py reports MBEDTLS_SSL_PROTO_TLS1_3 as disabled (or failed to run)"
        fi
    fi
    for o in "${REQUIRED_MBEDTLS_OPTS[@]}"; do
        if cfg_get "$src" "$o"; then
            log "config: $o = on (default)"
        else
            warn "config: $o is off in the default config - enabling it"
            cfg_set "$src" "$o" >>"$LOG_FILE" 2>&1
            cfg_get "$src" "$o" || fail "could not enable $o in $src/include/mbedtls/mbedtls_config.h"
        fi
    done
    CONFIG_REPORT=""
    for o in "${REQUIRED_MBEDTLS_OPTS[@]}" "${REPORT_MBEDTLS_OPTS[@]}"; do
        if cfg_get "$src" "$o"; then CONFIG_REPORT+="$o=on"$'\n'; else CONFIG_REPORT+="$o=off"$'\n'; fi
    done
    log "mbedTLS config:"$'\n'"$CONFIG_REPORT"
    if cfg_get "$src" MBEDTLS_USE_PSA_CRYPTO; then
        say "note: MBEDTLS_USE_PSA_CRYPTO is ON - psa_crypto_init() is mandatory before mbedtls_ssl_setup()"
    else
        say "note: MBEDTLS_USE_PSA_CRYPTO is OFF (3.6 default); TLS 1.3 still uses PSA internally - call psa_crypto_init() at startup"
    fi
}

build_mbedtls() {
    local src=$1
    local build=$BUILD_ROOT/mbedtls-3.6
    local inst=$MBEDTLS_INSTALL_DIR
    local cc=${CC:-cc}
    ensure_cmd cmake cmake
    ensure_cmd make make
    command -v "$cc" >/dev/null 2>&1 || ensure_pkgs gcc libc6-dev
    command -v "$cc" >/dev/null 2>&1 || die "C compiler '$cc' not found"

    check_mbedtls_config "$src"
    # Outgoing records of at most 2 KiB: a client's handshake messages are
    # small, and a longer write (chatwire writes up to its io buffer, 4 KiB
    # in the CLI) goes out as several records, 22 bytes more on the wire
    # each. The 16 KiB default costs 14 KB of heap, 4 KiB still 2 KB.
    # (Incoming records must stay 16 KiB: servers send full records.)
    # (edited only when needed: a touched config rebuilds the whole library)
    grep -q '^#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048' "$src/include/mbedtls/mbedtls_config.h" ||
        sed -i -E 's@^[[:space:]]*(//[[:space:]]*)?#define[[:space:]]+MBEDTLS_SSL_OUT_CONTENT_LEN[[:space:]].*@#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048@' \
            "$src/include/mbedtls/mbedtls_config.h"
    grep -q '^#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048' "$src/include/mbedtls/mbedtls_config.h" ||
        die "could not set MBEDTLS_SSL_OUT_CONTENT_LEN in $src"

    # On x86-64 with AES-NI and PCLMULQDQ, let the compiler use them:
    # mbedTLS then picks its intrinsics code for AES-GCM, whose GHASH is
    # about four times cheaper than the portable inline-assembly path
    # (measured by scripts/bench.sh). The library then needs such a CPU,
    # which every machine this host build runs on has.
    local cpu_flags=""
    if [[ "$(uname -m)" == x86_64 ]] && grep -qw aes /proc/cpuinfo 2>/dev/null &&
       grep -qw pclmulqdq /proc/cpuinfo && grep -qw sse4_1 /proc/cpuinfo; then
        cpu_flags="-maes -mpclmul -msse2 -mssse3 -msse4.1"
    fi
    # With those flags, also drop the portable AES code and its run-time
    # CPU check, which every AES block went through: 4 K instructions less
    # per kept-alive request (scripts/bench.sh). AES-NI has no table
    # lookups, so this is also the constant-time implementation.
    if [[ -n "$cpu_flags" ]]; then
        cfg_get "$src" MBEDTLS_AES_USE_HARDWARE_ONLY ||
            cfg_set "$src" MBEDTLS_AES_USE_HARDWARE_ONLY >>"$LOG_FILE" 2>&1
        cfg_get "$src" MBEDTLS_AES_USE_HARDWARE_ONLY ||
            die "could not set MBEDTLS_AES_USE_HARDWARE_ONLY in $src"
    elif cfg_get "$src" MBEDTLS_AES_USE_HARDWARE_ONLY; then
        cfg_unset "$src" MBEDTLS_AES_USE_HARDWARE_ONLY >>"$LOG_FILE" 2>&1
    fi
    # No debug messages: chatwire installs no debug callback, yet with
    # MBEDTLS_DEBUG_C every record still formats its trace calls, about
    # 1.9 K instructions per kept-alive request (scripts/bench.sh).
    if cfg_get "$src" MBEDTLS_DEBUG_C; then
        cfg_unset "$src" MBEDTLS_DEBUG_C >>"$LOG_FILE" 2>&1
    fi
    local cmake_args=(
        -DCMAKE_BUILD_TYPE=Release
        -DCMAKE_INSTALL_PREFIX="$inst"
        -DCMAKE_INSTALL_LIBDIR=lib
        -DCMAKE_C_COMPILER="$cc"
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON
        -DCMAKE_C_FLAGS="${CFLAGS:+$CFLAGS }${cpu_flags:+$cpu_flags }-fPIC"
        -DUSE_STATIC_MBEDTLS_LIBRARY=ON
        -DUSE_SHARED_MBEDTLS_LIBRARY=OFF
        -DENABLE_TESTING=OFF
        -DENABLE_PROGRAMS=OFF
        -DGEN_FILES=OFF
        -DMBEDTLS_FATAL_WARNINGS=OFF
    )
    local build_id
    build_id=$(printf '%s\n' "$MBEDTLS_DEB_VERSION" "$src" "$("$cc" --version 2>/dev/null | head -n1)" "${cmake_args[@]}" | sha256sum | cut -d' ' -f1)
    local stamp=$inst/.chatwire-build-id
    local libs=("$inst/lib/libmbedtls.a" "$inst/lib/libmbedx509.a" "$inst/lib/libmbedcrypto.a")

    # Up to date if all libs exist, were built with the same settings, and no
    # file in the source tree is newer than the oldest installed library.
    local uptodate=1 l oldest=""
    for l in "${libs[@]}"; do
        if [[ ! -f "$l" ]]; then uptodate=0; break; fi
        if [[ -z "$oldest" || "$l" -ot "$oldest" ]]; then oldest=$l; fi
    done
    if [[ $uptodate -eq 1 ]]; then
        [[ -f "$stamp" && "$(cat "$stamp")" == "$build_id" ]] || uptodate=0
    fi
    if [[ $uptodate -eq 1 ]] && [[ -n "$(find "$src" -newer "$oldest" -print -quit)" ]]; then
        uptodate=0
    fi
    if [[ $uptodate -eq 1 ]]; then
        say "mbedTLS already built and installed in $inst (up to date)"
        return 0
    fi

    say "building mbedTLS $MBEDTLS_DEB_VERSION (Release, static, -fPIC, -j$JOBS); log: $LOG_FILE"
    rm -rf "$build" "$inst"
    run "cmake configure (mbedTLS)" cmake -S "$src" -B "$build" "${cmake_args[@]}"
    run "cmake build (mbedTLS)" cmake --build "$build" -j "$JOBS"
    run "cmake install (mbedTLS)" cmake --install "$build"
    for l in "${libs[@]}"; do
        [[ -f "$l" ]] || fail "expected library $l was not installed"
    done
    {
        printf 'mbedtls_deb_version=%s\nsource=%s\nbuilt=%s\n' "$MBEDTLS_DEB_VERSION" "$src" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        printf '%s' "$CONFIG_REPORT"
    } >"$inst/chatwire-build-info.txt"
    printf '%s\n' "$build_id" >"$stamp"
}

verify_mbedtls() {
    local inst=$1
    local cc=${CC:-cc}
    local tmp
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatwire-mbedtls-check.XXXXXX")
    cat >"$tmp/check.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <mbedtls/build_info.h>
#include <mbedtls/version.h>
#include <mbedtls/ssl.h>
#include <mbedtls/psa_util.h>
#include <psa/crypto.h>

#if !defined(MBEDTLS_SSL_PROTO_TLS1_3) || !defined(MBEDTLS_SSL_SESSION_TICKETS) || \
    !defined(MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE) || \
    !defined(MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED) || \
    !defined(MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED) || \
    !defined(MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED) || \
    !defined(MBEDTLS_PSA_CRYPTO_C)
#error "installed mbedTLS lacks a required TLS 1.3 option"
#endif

int main(void)
{
    char version[32];
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    psa_status_t st;
    int rc;

    st = psa_crypto_init();
    if (st != PSA_SUCCESS) {
        fprintf(stderr, "psa_crypto_init failed: %d\n", (int) st);
        return 1;
    }
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
                                     MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0) {
        fprintf(stderr, "mbedtls_ssl_config_defaults: -0x%04x\n", (unsigned) -rc);
        return 1;
    }
    mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_3);
    /* mbedtls_ssl_setup() fails with MBEDTLS_ERR_SSL_NO_RNG without an RNG;
     * once psa_crypto_init() succeeded, PSA's RNG can be used directly. */
    mbedtls_ssl_conf_rng(&conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    rc = mbedtls_ssl_setup(&ssl, &conf);
    if (rc != 0) {
        fprintf(stderr, "mbedtls_ssl_setup: -0x%04x\n", (unsigned) -rc);
        return 1;
    }
    mbedtls_version_get_string(version);
    if (strcmp(version, MBEDTLS_VERSION_STRING) != 0) {
        fprintf(stderr, "header/library version mismatch: %s vs %s\n",
                MBEDTLS_VERSION_STRING, version);
        return 1;
    }
    printf("Mbed TLS %s OK: TLS1.3 client config set up (min version TLS1.3)",
           version);
#if defined(MBEDTLS_USE_PSA_CRYPTO)
    printf(", MBEDTLS_USE_PSA_CRYPTO=on\n");
#else
    printf(", MBEDTLS_USE_PSA_CRYPTO=off\n");
#endif
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_psa_crypto_free();
    return 0;
}
EOF
    say "verifying the install: compiling a TLS 1.3 / PSA smoke test"
    run "compiling mbedTLS smoke test" "$cc" -std=c99 -Wall -Wextra -O1 \
        -I"$inst/include" "$tmp/check.c" -o "$tmp/check" \
        -L"$inst/lib" -lmbedtls -lmbedx509 -lmbedcrypto
    local out
    if ! out=$("$tmp/check" 2>&1); then
        log "$out"
        rm -rf "$tmp"
        fail "mbedTLS smoke test failed: $out"
    fi
    log "$out"
    say "$out"
    rm -rf "$tmp"
}

# -------------------------------------------------------------------- main --
MBEDTLS_SRC=""
LWIP_SRC=""

if want mbedtls; then
    fetch_source mbedtls "$MBEDTLS_DEB_VERSION"
    MBEDTLS_SRC=$FETCHED_DIR
    # Upstream git has a "framework" submodule; release tarballs (and thus the
    # Debian orig tarball) ship it populated, plus all generated files.
    [[ -f "$MBEDTLS_SRC/framework/CMakeLists.txt" ]] \
        || fail "$MBEDTLS_SRC/framework is empty (git-submodule checkout?) - need a release tarball"
    build_mbedtls "$MBEDTLS_SRC"
    if [[ $VERIFY -eq 1 ]]; then
        verify_mbedtls "$MBEDTLS_INSTALL_DIR"
    fi
fi

if want lwip; then
    fetch_source lwip "$LWIP_DEB_VERSION"
    LWIP_SRC=$FETCHED_DIR
    [[ -f "$LWIP_SRC/src/include/lwip/init.h" ]] || fail "unexpected lwIP source layout in $LWIP_SRC"
fi

say "done in $(( $(date +%s) - START_TS ))s; log: $LOG_FILE"
if [[ -n "$MBEDTLS_SRC" ]]; then
    printf 'MBEDTLS_3_6_DIR=%s\n' "$MBEDTLS_INSTALL_DIR"
fi
if [[ -n "$LWIP_SRC" ]]; then
    printf 'LWIP_SRC_DIR=%s\n' "$LWIP_SRC"
fi
