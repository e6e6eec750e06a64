#!/usr/bin/env bash
# mcu-run.sh - one streamed chat completion over HTTPS from the Cortex-M4
# firmware (examples/qemu-mps2/) running in QEMU mps2-an386, against the
# local TLS test server (tests/server/chat_server.py).
#
#   scripts/mcu-run.sh [--tls 1.2|1.3|both] [--cert CERT] [--no-build]
#                      [--timeout S] [--big] [PROMPT]
#
#   --big  ask the server (test mode big=3000,coalesce) for ~130 KiB of
#          stream written at once, so it arrives in full 16 KiB TLS records
#          (checks MBEDTLS_SSL_IN_CONTENT_LEN); ~8 s per TLS version
#
#   --cert ec (good.pem, default) | rsa (good-rsa.pem): must succeed;
#          wronghost | expired | selfsigned: must be REFUSED by the
#          firmware's certificate check (exit 1 with "TLS: certificate ...")
#
# Steps: build (scripts/mcu-build.sh, whose test CA comes from
# build-mcu/certs), make the test certificates (tests/server/make_certs.sh),
# start the test server over TLS, start the UART relay
# (examples/qemu-mps2/uart_relay.py) and run QEMU with UART0 connected to it:
#   firmware --UART0--> QEMU -serial tcp --> relay --TCP--> test server (TLS)
# The TLS peer is the host's server; the firmware does the whole TLS client
# side. Checks that the output holds "Echo: PROMPT" and that the firmware
# exited 0; exits non-zero otherwise. Logs: build-mcu/run-tls1.X.log.
# --tls both (the default) runs TLS 1.3, then TLS 1.2.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build-mcu
tls=both
cert=ec
build=1
timeout_s=120
prompt="Hello from a Cortex-M4 in QEMU"
big=0

die() { printf 'mcu-run: %s\n' "$*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tls) tls=$2; shift 2 ;;
    --cert) cert=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --big) big=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -*) die "unknown option '$1'" ;;
    *) prompt=$1; shift ;;
  esac
done
if [[ $big -eq 1 ]]; then prompt='!mode:big=3000,coalesce go'; fi
case "$tls" in 1.2|1.3) versions=("$tls") ;; both) versions=(1.3 1.2) ;;
  *) die "--tls must be 1.2, 1.3 or both" ;; esac
expect_refusal=""
case "$cert" in ec) cert_name=good ;; rsa) cert_name=good-rsa ;;
  wronghost) cert_name=wronghost; expect_refusal="certificate is for wrong.example" ;;
  expired) cert_name=expired; expect_refusal="has expired" ;;
  selfsigned) cert_name=selfsigned; expect_refusal="is self-signed" ;;
  *) die "--cert must be ec, rsa, wronghost, expired or selfsigned" ;; esac
command -v qemu-system-arm >/dev/null || die "qemu-system-arm not found (apt-get install qemu-system-arm)"

mkdir -p "$out"
certs=$out/certs
bash "$root/tests/server/make_certs.sh" "$certs"
if [[ $build -eq 1 ]]; then
  bash "$root/scripts/mcu-build.sh" --ca "$certs/ca.pem" --out "$out" >/dev/null
fi
elf=$out/chatwire-mps2.elf
[[ -f "$elf" ]] || die "$elf not built"

# shellcheck source=scripts/procs.sh
source "$root/scripts/procs.sh"
procs_init cw-mcu-run

python3 "$root/tests/server/chat_server.py" --port 0 --port-file "$tmp/server.port" \
  --tls-cert "$certs/$cert_name.pem" --tls-key "$certs/$cert_name.key" \
  --key test-key --read-timeout-ms 60000 --quiet &
pids+=($!)
wait_file "$tmp/server.port" "${pids[-1]}" "test server"
sport=$(cat "$tmp/server.port")

# QEMU option values: a comma is written ",,"
qarg() { printf 'arg=%s' "${1//,/,,}"; }

status=0
for v in "${versions[@]}"; do
  log=$out/run-tls$v.log
  rm -f "$tmp/relay.port"
  python3 "$root/examples/qemu-mps2/uart_relay.py" --target "127.0.0.1:$sport" \
    --port-file "$tmp/relay.port" 2>"$tmp/relay.log" &
  relay=$!
  pids+=("$relay")
  wait_file "$tmp/relay.port" "$relay" "relay"
  read -r rport cport <"$tmp/relay.port"
  semi="enable=on,target=native,arg=chatwire-mps2,$(qarg "https://localhost:$sport/v1")"
  semi+=",arg=$v,arg=test-key"
  for w in $prompt; do semi+=",$(qarg "$w")"; done
  echo "mcu-run: TLS $v, server certificate $cert_name.pem, relay :$rport (control :$cport) -> :$sport" >&2
  t0=$(date +%s.%N)
  rc=0
  timeout "$timeout_s" qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -nic none -semihosting-config "$semi" -serial "tcp:127.0.0.1:$rport" \
    -serial "tcp:127.0.0.1:$cport" \
    -kernel "$elf" >"$log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  wait "$relay" 2>/dev/null || true
  cat "$tmp/relay.log" >>"$log"
  printf 'mcu-run: qemu exit %d, wall time %.2f s\n' "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >>"$log"
  cat "$log"
  if [[ -n "$expect_refusal" ]]; then
    if [[ $rc -eq 1 ]] && grep -q "result .* (-10), " "$log" &&
       grep -qF "$expect_refusal" "$log" && ! grep -qF "Echo:" "$log"; then
      echo "mcu-run: OK (TLS $v): $cert_name.pem refused: $expect_refusal" >&2
    else
      echo "mcu-run: FAIL (TLS $v): $cert_name.pem was not refused as expected" >&2
      status=1
    fi
  elif [[ $rc -ne 0 ]]; then
    echo "mcu-run: FAIL (TLS $v): QEMU exited $rc (124 means the ${timeout_s} s timeout)" >&2
    status=1
  elif [[ $big -eq 1 ]]; then
    if grep -q "result success (0), HTTP 200, 3000 bytes of content" "$log"; then
      echo "mcu-run: OK (TLS $v): 3000 bytes of content in full-size records" >&2
    else
      echo "mcu-run: FAIL (TLS $v): the big reply did not arrive whole" >&2
      status=1
    fi
  elif ! grep -qF "Echo: $prompt" "$log"; then
    echo "mcu-run: FAIL (TLS $v): the answer does not contain 'Echo: $prompt'" >&2
    status=1
  elif ! grep -q "handshake .* TLSv$v" "$log"; then
    echo "mcu-run: FAIL (TLS $v): the handshake did not negotiate TLS $v" >&2
    status=1
  else
    echo "mcu-run: OK (TLS $v)" >&2
  fi
done
exit $status
