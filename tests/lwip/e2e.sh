#!/usr/bin/env bash
# e2e.sh - runs lwip_e2e binaries against the local test server, over a TAP
# link inside a network namespace made for the test.
#
#   bash tests/lwip/e2e.sh BIN...     (as root; ctest lwip_e2e runs this)
#
# The namespace holds only its loopback and one TAP device, cwtapN:
#   192.0.2.1/24  host end (Linux), where chat_server.py listens (TLS + plain)
#   192.0.2.2     lwIP, inside each BIN (tapif attaches to cwtapN)
# 192.0.2.0/24 is TEST-NET-1 (RFC 5737); no other network is reachable from
# the namespace. The namespace (with the TAP device) and the servers are
# removed on exit, also on INT and TERM.
# CW_LWIP_WORK_DIR: where certificates and server logs go (default: a
# temporary directory, removed on exit). CW_LWIP_MTU: force the link MTU
# (default below). CW_LWIP_WRAPPER="valgrind -q" (say) runs each BIN under
# that command.
# Exit status: 0 all passed, 1 a failure, 77 skipped (not root, no TUN).
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 LWIP_E2E_BINARY..." >&2; exit 2; }
SRC=${CW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=${CW_LWIP_WORK_DIR:-}

if [[ $(id -u) -ne 0 ]]; then
  echo "lwip_e2e: SKIPPED: needs root for a network namespace and a TAP device" >&2
  exit 77
fi
if ! command -v ip >/dev/null || [[ ! -c /dev/net/tun ]]; then
  echo "lwip_e2e: SKIPPED: needs iproute2 and /dev/net/tun" >&2
  exit 77
fi

if [[ -z $WORK ]]; then
  WORK=$(mktemp -d /tmp/cw-lwip-e2e.XXXXXX)
  REMOVE_WORK=1
fi
NS=cwlwip$$
TAP=cwtap$$
PIDS=()
TEST_PID=
cleanup() {
  local pid
  for pid in $TEST_PID "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  ip netns del "$NS" 2>/dev/null || true
  [[ -z ${REMOVE_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$WORK"
bash "$SRC/tests/server/make_certs.sh" "$WORK/certs"
# A server certificate that names the lwIP-side view of the server both
# ways: DNS:localhost (lwIP 2.2.1 build: DNS_LOCAL_HOSTLIST) and the address
# (Debian's build has no DNS). The address is also a DNS-type SAN because
# mbedTLS 2.28 matches only DNS names (iPAddress SANs came in 3.x).
C="$WORK/certs"
if [[ ! -s "$C/lwip.pem" ]] || ! openssl x509 -in "$C/lwip.pem" -noout -checkend 86400 >/dev/null 2>&1; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/lwip.key" 2>/dev/null
  openssl req -new -key "$C/lwip.key" -subj "/CN=192.0.2.1" -out "$C/lwip.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,DNS:192.0.2.1,IP:192.0.2.1" >"$C/lwip.ext"
  openssl x509 -req -in "$C/lwip.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
    -set_serial "0x$(openssl rand -hex 8 | sed 's/^./4/')" -days 30 \
    -extfile "$C/lwip.ext" -out "$C/lwip.pem" 2>/dev/null
fi

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap
ip -n "$NS" addr add 192.0.2.1/24 dev "$TAP"
ip -n "$NS" link set "$TAP" up

start_server() { # NAME ARGS...: starts chat_server.py in the namespace
  local name=$1; shift
  rm -f "$WORK/$name.port"
  ip netns exec "$NS" python3 "$SRC/tests/server/chat_server.py" \
    --host 192.0.2.1 --port 0 --port-file "$WORK/$name.port" --key test-key \
    --event-log "$WORK/$name.events" --quiet "$@" &
  PIDS+=($!)
  for _ in $(seq 300); do
    [[ -s "$WORK/$name.port" ]] && { sleep 0.05; return 0; }
    sleep 0.05
  done
  echo "lwip_e2e: server $name did not start" >&2
  exit 1
}
start_server tls --tls-cert "$C/lwip.pem" --tls-key "$C/lwip.key"
start_server plain
TLS_PORT=$(cat "$WORK/tls.port")
PLAIN_PORT=$(cat "$WORK/plain.port")

rc=0
for bin in "$@"; do
  # Debian's liblwip0 2.1.3 writes past its 616-byte PBUF_POOL buffers when
  # tapif receives a full 1514-byte frame (valgrind: invalid write in
  # pbuf_take from tapif's input thread; heap corruption, then abort). With
  # the link MTU at 576 the kernel sends frames of 590 bytes at most, which
  # fit. lwIP 2.2.1 built from source takes full 1500-byte frames.
  mtu=1500
  [[ $bin == *debian* ]] && mtu=576
  mtu=${CW_LWIP_MTU:-$mtu}
  ip -n "$NS" link set "$TAP" mtu "$mtu"
  echo "== $(basename "$bin") (link MTU $mtu)"
  # in the background, so that a signal reaches the trap (and the test)
  # at once instead of after the test has finished
  ip netns exec "$NS" env PRECONFIGURED_TAPIF="$TAP" timeout 240 ${CW_LWIP_WRAPPER:-} "$bin" \
      "https://192.0.2.1:$TLS_PORT/v1" "http://192.0.2.1:$PLAIN_PORT/v1" \
      "$C/ca.pem" &
  TEST_PID=$!
  if ! wait "$TEST_PID"; then
    echo "== $(basename "$bin"): FAILED" >&2
    rc=1
  fi
  TEST_PID=
done
echo "== server log:"
cat "$WORK/tls.events" "$WORK/plain.events" 2>/dev/null | sed 's/ request_ns=.*//' || true
exit $rc
