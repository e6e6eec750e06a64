#!/usr/bin/env bash
# get-deps-src.sh - fetch and unpack third-party SOURCE from Debian source
# packages: nothing is built here (chatwire's CMake build compiles mbedTLS
# from this source with its committed configuration,
# ports/mbedtls/host/cw_mbedtls_host_config.h; the firmware scripts with
# ports/mbedtls/mcu/cw_mbedtls_config.h).
#
#   * mbedTLS 3.6 LTS (Debian trixie's source package)
#   * lwIP 2.2.1 (Debian trixie's source package), with its contrib ports
#   * cJSON 1.7.18 (Debian trixie's source package), with --only cjson: the
#     unit tests' independent JSON parser, compiled from source for the
#     other-architecture test builds (scripts/cores.sh)
#
# both unpacked into <prefix>/src/. Nothing fetched here is meant to be
# committed (third_party/ is in .gitignore). The Debian archive location is
# not written here: the deb-src entry reuses the URIs and Signed-By of the
# first stanza of the system's /etc/apt/sources.list.d/debian.sources (or
# the first "deb" line of /etc/apt/sources.list).
#
# Usage: scripts/get-deps-src.sh [--prefix DIR] [--only mbedtls|lwip|cjson]
#                                [--verbose] [-h]
#
# On success the last lines on STDOUT are (all chatter goes to stderr/log):
#   MBEDTLS_SRC_DIR=/abs/path/third_party/src/mbedtls-3.6.6
#   LWIP_SRC_DIR=/abs/path/third_party/src/lwip-2.2.1+dfsg1
# (and CJSON_SRC_DIR=... with --only cjson)
# so a caller can do:  eval "$(scripts/get-deps-src.sh)"
#                      cmake -DCW_MBEDTLS_SOURCE_DIR="$MBEDTLS_SRC_DIR" ...
#
# Environment overrides (rarely needed):
#   MBEDTLS_DEB_VERSION  (default 3.6.6-0.1~deb13u1)
#   LWIP_DEB_VERSION     (default 2.2.1+dfsg1-1+deb13u1)
#   CJSON_DEB_VERSION    (default 1.7.18-3.1+deb13u1)
#   DEB_SRC_SUITE        (default trixie)
#
# Needs root (or passwordless sudo) only when it must add the deb-src entry,
# run apt-get update, or install missing tools (dpkg-dev, ...).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

readonly SCRIPT_NAME=get-deps-src
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

MBEDTLS_DEB_VERSION=${MBEDTLS_DEB_VERSION:-3.6.6-0.1~deb13u1}
LWIP_DEB_VERSION=${LWIP_DEB_VERSION:-2.2.1+dfsg1-1+deb13u1}
CJSON_DEB_VERSION=${CJSON_DEB_VERSION:-1.7.18-3.1+deb13u1}
DEB_SRC_SUITE=${DEB_SRC_SUITE:-trixie}
DEB_SRC_COMPONENT=main
SRC_ENTRY_FILE=/etc/apt/sources.list.d/chatwire-${DEB_SRC_SUITE}-src.sources
SYSTEM_DEB822=/etc/apt/sources.list.d/debian.sources
SYSTEM_ONELINE=/etc/apt/sources.list

# ----------------------------------------------------------------- options --
PREFIX=""
ONLY=""
VERBOSE=0

usage() {
    sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

die() { printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix)   [[ $# -ge 2 && -n "$2" ]] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; [[ -n "$PREFIX" ]] || die "--prefix needs a directory"; shift ;;
        --only)     [[ $# -ge 2 ]] || die "--only needs 'mbedtls', 'lwip' or 'cjson'"; ONLY=$2; shift 2 ;;
        --only=*)   ONLY=${1#*=}; shift ;;
        -v|--verbose) VERBOSE=1; shift ;;
        -h|--help)  usage; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done

case "$ONLY" in
    ""|mbedtls|lwip|cjson) ;;
    *) die "--only must be 'mbedtls', 'lwip' or 'cjson' (got '$ONLY')" ;;
esac
# cjson only when asked for: the host builds use Debian's libcjson-dev
want() { [[ ( -z "$ONLY" && "$1" != cjson ) || "$ONLY" == "$1" ]]; }


# Default prefix is <repo>/third_party; a relative --prefix is relative to
# the current directory (like any other CLI tool).
PREFIX=${PREFIX:-$REPO_ROOT/third_party}
mkdir -p "$PREFIX" || die "cannot create prefix directory '$PREFIX'"
PREFIX=$(cd "$PREFIX" && pwd)

SRC_DIR=$PREFIX/src
LOG_DIR=$PREFIX/logs
LOG_FILE=$LOG_DIR/$SCRIPT_NAME.log
mkdir -p "$SRC_DIR" "$LOG_DIR"

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

log "get-deps-src.sh: prefix=$PREFIX only=${ONLY:-all} CI=${CI:-}"

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

# -------------------------------------------------------------------- main --
MBEDTLS_SRC=""
LWIP_SRC=""
CJSON_SRC=""

if want mbedtls; then
    fetch_source mbedtls "$MBEDTLS_DEB_VERSION"
    MBEDTLS_SRC=$FETCHED_DIR
    # Upstream git has a "framework" submodule; release tarballs (and thus the
    # Debian orig tarball) ship it populated, plus all generated files.
    [[ -f "$MBEDTLS_SRC/framework/CMakeLists.txt" ]] \
        || fail "$MBEDTLS_SRC/framework is empty (git-submodule checkout?) - need a release tarball"
    [[ -f "$MBEDTLS_SRC/library/ssl_tls13_client.c" ]] \
        || fail "unexpected mbedTLS source layout in $MBEDTLS_SRC"
fi

if want lwip; then
    fetch_source lwip "$LWIP_DEB_VERSION"
    LWIP_SRC=$FETCHED_DIR
    [[ -f "$LWIP_SRC/src/include/lwip/init.h" ]] || fail "unexpected lwIP source layout in $LWIP_SRC"
fi

if want cjson; then
    fetch_source cjson "$CJSON_DEB_VERSION"
    CJSON_SRC=$FETCHED_DIR
    [[ -f "$CJSON_SRC/cJSON.c" && -f "$CJSON_SRC/cJSON.h" ]] || fail "unexpected cJSON source layout in $CJSON_SRC"
fi

say "done in $(( $(date +%s) - START_TS ))s; log: $LOG_FILE"
if [[ -n "$MBEDTLS_SRC" ]]; then
    printf 'MBEDTLS_SRC_DIR=%s\n' "$MBEDTLS_SRC"
fi
if [[ -n "$LWIP_SRC" ]]; then
    printf 'LWIP_SRC_DIR=%s\n' "$LWIP_SRC"
fi
if [[ -n "$CJSON_SRC" ]]; then
    printf 'CJSON_SRC_DIR=%s\n' "$CJSON_SRC"
fi
