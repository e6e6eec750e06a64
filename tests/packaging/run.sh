#!/usr/bin/env bash
# run.sh - chatwire as another project sees it: installed and found with
# find_package or pkg-config, as a shared library, as a subdirectory.
#
#   bash tests/packaging/run.sh [--mbedtls-source DIR]
#
# For a static and a shared build of chatwire (on mbedTLS 3.6 built from
# DIR, default third_party/src/mbedtls-3.6.*), each installed into its own
# prefix:
#   - the out-of-tree consumer (tests/packaging/consumer) is built with
#     find_package(chatwire CONFIG) and with `pkg-config --cflags --libs
#     [--static] chatwire`, and each binary talks TLS 1.3 to the local test
#     server (tests/server/chat_server.py --tls-min 1.3) and gets its echo;
#   - chatwire.pc passes `pkgconf --validate`;
#   - the shared libraries carry a SONAME from the version and export only
#     chatwire's public API (cw_ names, no mbedTLS, no internals);
#   - the consumer compiled against other mbedTLS headers (Debian's 2.28)
#     fails to build, with cw_tls.h's #error.
# Then chatwire as a subdirectory (tests/packaging/subproject): configures
# without its tests, examples or fuzzers, and builds the consumer.
# Prints "packaging: N checks ok" or the first failure, and exits non-zero.
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/packaging
mbedtls_src=""
[[ "${1:-}" == --mbedtls-source ]] && mbedtls_src=$2
if [[ -z "$mbedtls_src" ]]; then
  for d in "$root"/third_party/src/mbedtls-3.6.*; do
    [[ -f "$d/library/ssl_tls13_client.c" ]] && mbedtls_src=$d
  done
fi
[[ -n "$mbedtls_src" ]] || { echo "packaging: no mbedTLS 3.6 source (scripts/get-deps-src.sh --only mbedtls)" >&2; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cw-packaging.XXXXXX")
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
checks=0
ok() { checks=$((checks + 1)); echo "ok   $*"; }
die() { echo "FAIL $*" >&2; exit 1; }

# ------------------------------------------------------------ the server
bash "$root/tests/server/make_certs.sh" "$tmp/certs" >/dev/null
python3 "$root/tests/server/chat_server.py" --port 0 --port-file "$tmp/port" \
  --tls-cert "$tmp/certs/good.pem" --tls-key "$tmp/certs/good.key" \
  --tls-min 1.3 --key pkg-key --quiet &
server_pid=$!
for _ in $(seq 200); do [[ -s "$tmp/port" ]] && break; sleep 0.05; done
[[ -s "$tmp/port" ]] || die "the test server did not start"
sleep 0.1
url="https://localhost:$(cat "$tmp/port")/v1"

talk() { # BINARY LABEL
  local out
  out=$(COMETAPI_KEY=pkg-key "$1" "$url" "$tmp/certs/ca.pem" "hello $2" 2>&1) ||
    die "$2: the consumer failed: $out"
  [[ "$out" == *"Echo: hello $2"* && "$out" == *"tls=TLSv1.3"* ]] ||
    die "$2: unexpected output: $out"
  ok "$2: TLS 1.3 chat with the local server"
}

for kind in static shared; do
  prefix=$tmp/prefix-$kind
  shared=OFF; [[ $kind == shared ]] && shared=ON
  cmake -S "$root" -B "$tmp/build-$kind" -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=$shared -DCW_BUILD_TESTS=OFF -DCW_BUILD_EXAMPLES=OFF \
    -DCW_MBEDTLS_SOURCE_DIR="$mbedtls_src" -DCMAKE_INSTALL_PREFIX="$prefix" \
    >"$tmp/$kind.configure.log" 2>&1 || { cat "$tmp/$kind.configure.log"; die "$kind: configure"; }
  cmake --build "$tmp/build-$kind" -j "$jobs" >"$tmp/$kind.build.log" 2>&1 ||
    { tail -40 "$tmp/$kind.build.log"; die "$kind: build"; }
  cmake --install "$tmp/build-$kind" >/dev/null
  ok "$kind: built and installed into its prefix"

  # find_package
  cmake -S "$here/consumer" -B "$tmp/consumer-$kind" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$tmp/consumer-$kind.log" 2>&1 && cmake --build "$tmp/consumer-$kind" >>"$tmp/consumer-$kind.log" 2>&1 ||
    { cat "$tmp/consumer-$kind.log"; die "$kind: the find_package consumer did not build"; }
  talk "$tmp/consumer-$kind/consumer" "$kind find_package"

  # pkg-config (a static link needs --static: mbedTLS's libraries too)
  pc=$prefix/lib/pkgconfig
  pkgconf --validate "$pc/chatwire.pc" || die "$kind: pkgconf --validate chatwire.pc"
  ok "$kind: pkgconf --validate chatwire.pc"
  static_flag=""; [[ $kind == static ]] && static_flag=--static
  # shellcheck disable=SC2046
  cc -std=c99 -o "$tmp/pc-$kind" "$here/consumer/main.c" \
    $(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs $static_flag chatwire) \
    -Wl,-rpath,"$prefix/lib" || die "$kind: the pkg-config consumer did not build"
  talk "$tmp/pc-$kind" "$kind pkg-config"

  if [[ $kind == shared ]]; then
    for lib in chatwire chatwire_posix chatwire_mbedtls; do
      so=$prefix/lib/lib$lib.so
      soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
      [[ $soname == "lib$lib.so.0.1" ]] || die "$lib: SONAME '$soname', not lib$lib.so.0.1"
      bad=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^cw_' || true)
      [[ -z "$bad" ]] || die "$lib exports more than the public API: $(echo $bad | head -c 300)"
      # and not the internal layers either
      ! nm -D --defined-only "$so" | grep -qE ' cw_(http|sse|json|request_check|request_emit|utf8|copy_field|detail|dec_u64|retry|client_owns)' ||
        die "$lib exports internal functions"
    done
    ok "shared: SONAMEs lib*.so.0.1, only the public cw_ API exported"
  fi

  # other mbedTLS headers than the library's: a build error, not a run-time one
  # (a copy: GCC drops -I/usr/include, a system directory, from the search)
  mkdir -p "$tmp/mbedtls-2.28" && cp -r /usr/include/mbedtls "$tmp/mbedtls-2.28/"
  if cc -std=c99 -c -o "$tmp/mismatch.o" -I"$tmp/mbedtls-2.28" \
       -I"$prefix/include/chatwire" -I"$prefix/include" "$here/consumer/main.c" 2>"$tmp/mismatch.log"; then
    die "$kind: compiling against Debian's mbedTLS 2.28 headers did not fail"
  fi
  grep -q "not the mbedTLS headers libchatwire_mbedtls was built with" "$tmp/mismatch.log" ||
    { cat "$tmp/mismatch.log"; die "$kind: the mismatch failed for another reason"; }
  ok "$kind: other mbedTLS headers are a build error (cw_tls.h)"
done

# ------------------------------------------------------------ subdirectory
cmake -S "$here/subproject" -B "$tmp/sub" -DCHATWIRE_DIR="$root" \
  -DCW_MBEDTLS_SOURCE_DIR="$mbedtls_src" >"$tmp/sub.log" 2>&1 || { cat "$tmp/sub.log"; die "subproject: configure"; }
! grep -qE "^(CW_BUILD_TESTS|CW_BUILD_EXAMPLES|CW_BUILD_FUZZ):BOOL=ON" "$tmp/sub/CMakeCache.txt" ||
  die "subproject: chatwire's tests, examples or fuzzers are on"
cmake --build "$tmp/sub" -j "$jobs" >>"$tmp/sub.log" 2>&1 || { tail -40 "$tmp/sub.log"; die "subproject: build"; }
[[ ! -e "$tmp/sub/chatwire/tests" ]] || die "subproject: chatwire's tests were configured"
talk "$tmp/sub/consumer" "subdirectory"

echo "packaging: $checks checks ok"
