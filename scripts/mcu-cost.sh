#!/usr/bin/env bash
# mcu-cost.sh - what a TLS handshake and a streamed answer cost on the
# Cortex-M4 (QEMU mps2-an386), in guest instructions, counted
# deterministically.
#
#   scripts/mcu-cost.sh [--quick] [--runs N] [--no-variants] [-j N]
#
# Method. QEMU runs with -icount shift=0,align=off,sleep=off: one guest
# instruction advances virtual time by exactly 1 ns, so CMSDK Timer0
# (25 MHz) advances one tick per 40 instructions. Every figure is Timer0
# ticks x 40: instructions, not cycles and not time on a device (a real
# Cortex-M4 needs more cycles than instructions: wait states, multi-cycle
# loads and branches). Each run first checks the calibration: a loop of
# 2,000,000 instructions must read 50,000 ticks, or the script fails.
# Excluded everywhere: the instructions the polled UART driver spends
# (waiting for host bytes, and moving them: examples/qemu-mps2/mps2_uart.c
# times itself), and the application's on_delta callback.
#
# What runs:
#  - handshakes: the firmware (examples/qemu-mps2, chatwire's default
#    options, the MCU mbedTLS config) against the local TLS test server
#    through the UART relay, two connections per boot: the first a full
#    handshake, the second resumes the session the first one saved (checked:
#    the firmware says "resumed", the relay saw the server take the PSK,
#    the server logged /resumed). TLS 1.3 and 1.2, EC P-256 and RSA-2048
#    server certificates (both signed by the P-256 test CA).
#  - stream, chatwire: the cost firmware (examples/qemu-mps2/cost) feeds
#    responses recorded from the test server (big=N,coalesce: full 16 KiB
#    TLS records; over plain HTTP) from RAM through each layer and through
#    cw_chat; per KiB = the slope between two answer sizes, per KiB of
#    plaintext stream (the HTTP response bytes). No network: identical at
#    every run. Default options and examples/qemu-mps2/cw_config_small.h.
#  - record ciphers: psa_aead_decrypt (what TLS uses with
#    MBEDTLS_USE_PSA_CRYPTO) of 1 and 16 KiB records; and, in the full run,
#    mbedtls_ssl_read per KiB in the firmware over TLS for each AEAD.
#  - mbedTLS variants (not with --quick or --no-variants): each option set
#    over ports/mbedtls/mcu/cw_mbedtls_config.h (a user config), its flash
#    (mbedTLS as linked into the firmware) and handshakes.
# --quick: the chosen configuration only, one run each, the three required
# lines (CI). --runs N: boots per handshake row (default 3; mean and
# spread). Builds go to build-mcu/cost/ (mbedTLS per variant, rebuilt only
# when its config or flags change). Logs: build-mcu/cost/logs/.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build-mcu/cost
quick=0
runs=3
variants=1
jobs=2
die() { printf 'mcu-cost: %s\n' "$*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; runs=1; variants=0; shift ;;
    --runs) runs=$2; shift 2 ;;
    --no-variants) variants=0; shift ;;
    -j) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
command -v qemu-system-arm >/dev/null || die "qemu-system-arm not found (apt-get install qemu-system-arm)"
t_begin=$(date +%s)
mkdir -p "$out/logs"
logs=$out/logs

# ------------------------------------------------------------ variants
# name|what|user config lines (\n-separated)|files compiled with -O2
# "chosen" is cw_mbedtls_config.h as it is.
variant_table=(
  "chosen|cw_mbedtls_config.h as is||"
  "base|legacy ECP, window 2, no fixed-point tables|#undef MBEDTLS_USE_PSA_CRYPTO\n#undef MBEDTLS_PSA_P256M_DRIVER_ENABLED\n#undef MBEDTLS_ECP_WINDOW_SIZE\n#define MBEDTLS_ECP_WINDOW_SIZE 2\n#undef MBEDTLS_ECP_FIXED_POINT_OPTIM\n#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0|"
  "ecp4|legacy ECP, window 4 + fixed-point tables|#undef MBEDTLS_USE_PSA_CRYPTO\n#undef MBEDTLS_PSA_P256M_DRIVER_ENABLED\n#undef MBEDTLS_ECP_WINDOW_SIZE\n#define MBEDTLS_ECP_WINDOW_SIZE 4\n#undef MBEDTLS_ECP_FIXED_POINT_OPTIM\n#define MBEDTLS_ECP_FIXED_POINT_OPTIM 1|"
  "p256m|p256-m driver alone|#undef MBEDTLS_USE_PSA_CRYPTO\n#define MBEDTLS_PSA_P256M_DRIVER_ENABLED|"
  "usepsa|MBEDTLS_USE_PSA_CRYPTO alone|#define MBEDTLS_USE_PSA_CRYPTO\n#undef MBEDTLS_PSA_P256M_DRIVER_ENABLED|"
  "p256m+usepsa|p256-m driver + USE_PSA|#define MBEDTLS_USE_PSA_CRYPTO\n#define MBEDTLS_PSA_P256M_DRIVER_ENABLED|"
)
variant_field() { # NAME FIELD(1-4)
  local v
  for v in "${variant_table[@]}"; do
    [[ "${v%%|*}" == "$1" ]] && { cut -d'|' -f"$2" <<<"$v"; return; }
  done
  die "no variant $1"
}

certs=$root/build-mcu/certs
bash "$root/tests/server/make_certs.sh" "$certs" >/dev/null

# The firmware (default chatwire options) and the cost firmware for one
# variant, in $out/NAME. mbedTLS is rebuilt only when its id changed.
build_variant() { # NAME
  local name=$1 dir=$out/$1 cfg="" lines o2
  mkdir -p "$dir"
  lines=$(variant_field "$name" 3)
  o2=$(variant_field "$name" 4)
  if [[ -n "$lines" ]]; then
    cfg=$dir/user_config.h
    printf '/* mcu-cost.sh variant %s */\n%b\n' "$name" "$lines" >"$cfg.new"
    if cmp -s "$cfg.new" "$cfg"; then rm -f "$cfg.new"; else mv -f "$cfg.new" "$cfg"; fi
  fi
  CW_MBEDTLS_USER_CONFIG=$cfg CW_MBEDTLS_O2=$o2 nice bash "$root/scripts/mcu-build.sh" \
    --out "$dir" --cw-config none --ca "$certs/ca.pem" -j "$jobs" >"$dir/build.log" 2>&1 ||
    { cat "$dir/build.log" >&2; die "build of variant $name failed"; }
  ( CW_MBEDTLS_USER_CONFIG=$cfg CW_MBEDTLS_O2=$o2 build_bench "$dir" none bench.elf ) ||
    die "cost firmware of variant $name failed"
}

# The cost firmware DIR/ELF, with chatwire's options CWCFG (none: the
# defaults), linked with DIR's mbedTLS.
build_bench() { # DIR CWCFG ELF
  local dir=$1 cwcfg=$2 elf=$1/$3 obj
  # shellcheck source=scripts/mcu-common.sh
  source "$root/scripts/mcu-common.sh"
  obj=$dir/obj-${3%.elf}
  rm -rf "$obj"
  mkdir -p "$obj"
  local fw=$root/examples/qemu-mps2
  local inc=(-I"$root/include" -I"$root/src" -I"$root/ports/mbedtls" -I"$mcu_dir"
             -I"$fw" -I"$fw/cost" -I"$mbed_src/include" -isystem "$dir/jsmn")
  [[ "$cwcfg" == none ]] || inc+=(-DCW_CONFIG_FILE="\"$cwcfg\"")
  python3 - "$certs/good.pem" "$obj/test_leaf.c" <<'EOF'
import base64, sys
pem = open(sys.argv[1]).read()
der = base64.b64decode("".join(pem.split("-----")[2].split()))
rows = [", ".join("0x%02x" % b for b in der[i:i + 12]) for i in range(0, len(der), 12)]
open(sys.argv[2], "w").write(
    "/* Generated by scripts/mcu-cost.sh: the test server's EC leaf. */\n"
    "#include <stddef.h>\nconst unsigned char cw_fw_test_leaf[] = {\n    "
    + ",\n    ".join(rows) + "\n};\nconst size_t cw_fw_test_leaf_len = sizeof cw_fw_test_leaf;\n")
EOF
  local srcs=("$fw"/cost/*.c "$fw/startup.c" "$fw/semihost.c" "$fw/stack.c" "$fw/mps2_uart.c"
              "$mcu_dir/cw_mbedtls_mcu.c" "${cw_srcs[@]}")
  local s objs=()
  for s in "${srcs[@]}"; do
    local o
    o=$obj/$(basename "$(dirname "$s")")_$(basename "$s" .c).o
    "$cc" "${common[@]}" "${cfg_def[@]}" "${inc[@]}" "${warn[@]}" \
      -DCW_FW_BUILD_TIME="$(date +%s)LL" -c "$s" -o "$o" || return 1
    objs+=("$o")
  done
  for s in "$dir/gen/test_ca.c" "$dir/gen/trust_anchors.c" "$obj/test_leaf.c"; do
    "$cc" "${common[@]}" -I"$mcu_dir" -c "$s" -o "$obj/$(basename "$s" .c).o" || return 1
    objs+=("$obj/$(basename "$s" .c).o")
  done
  "$cc" "${cpu[@]}" -Os -nostartfiles --specs=nano.specs --specs=rdimon.specs \
    -T "$fw/mps2_an386.ld" -Wl,--gc-sections -Wl,-Map="$elf.map" \
    "${objs[@]}" "$dir/mbedtls/libmbedtls_mcu.a" -o "$elf"
}

# ------------------------------------------------------------ servers
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cw-mcu-cost.XXXXXX")
pids=()
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_file() { # file pid what
  local _
  for _ in $(seq 1 100); do
    [[ -s "$1" ]] && return 0
    kill -0 "$2" 2>/dev/null || die "$3 exited early"
    sleep 0.1
  done
  die "$3 did not start"
}

start_server() { # NAME [TLS CERT]
  local name=$1
  local args=(--port 0 --port-file "$tmp/$name.port" --key test-key
              --read-timeout-ms 60000 --quiet --event-log "$logs/server-$name.log")
  [[ $# -ge 3 ]] && args+=(--tls-cert "$certs/$3.pem" --tls-key "$certs/$3.key")
  : >"$logs/server-$name.log"
  python3 "$root/tests/server/chat_server.py" "${args[@]}" &
  pids+=($!)
  wait_file "$tmp/$name.port" "${pids[-1]}" "test server $name"
}

# ------------------------------------------------------------ boots
qarg() { printf 'arg=%s' "${1//,/,,}"; }

# One boot of ELF with the semihosting words ARGS...; the log is LOG.
boot_bench() { # ELF LOG ARGS...
  local elf=$1 log=$2; shift 2
  local semi="enable=on,target=native,arg=bench" w
  for w in "$@"; do semi+=",$(qarg "$w")"; done
  timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none -nic none \
    -icount shift=0,align=off,sleep=off -semihosting-config "$semi" \
    -kernel "$elf" >"$log" 2>&1 || { cat "$log" >&2; die "cost firmware failed ($log)"; }
  check_calibration "$log"
}

check_calibration() { # LOG
  grep -qE "calibration: 2000000 instructions in 5000[01] ticks" "$1" ||
    die "$1: the calibration loop did not read 50,000 ticks: is -icount shift=0 in effect?"
}

# One boot of the firmware ELF against server SERVER, TLS version V, with
# the firmware options and prompt in ARGS...; the log is LOG.
boot_fw() { # ELF SERVER V LOG ARGS...
  local elf=$1 server=$2 v=$3 log=$4; shift 4
  local sport rport cport relay w
  sport=$(cat "$tmp/$server.port")
  rm -f "$tmp/relay.port"
  python3 "$root/examples/qemu-mps2/uart_relay.py" --target "127.0.0.1:$sport" \
    --port-file "$tmp/relay.port" 2>"$tmp/relay.log" &
  relay=$!
  pids+=("$relay")
  wait_file "$tmp/relay.port" "$relay" "relay"
  read -r rport cport <"$tmp/relay.port"
  local semi="enable=on,target=native,arg=chatwire-mps2,$(qarg "https://localhost:$sport/v1")"
  semi+=",arg=$v,arg=test-key"
  for w in "$@"; do semi+=",$(qarg "$w")"; done
  local rc=0
  # -nic user,restrict=on, not -nic none: the NIC stays unused and cut off
  # from every network, and its backend's timers keep QEMU's main loop
  # reading the UART sockets (with -nic none, under -icount, measured here:
  # no byte ever reached the guest)
  timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -nic user,restrict=on -icount shift=0,align=off,sleep=off -semihosting-config "$semi" \
    -serial "tcp:127.0.0.1:$rport" -serial "tcp:127.0.0.1:$cport" \
    -kernel "$elf" >"$log" 2>&1 || rc=$?
  wait "$relay" 2>/dev/null || true
  cat "$tmp/relay.log" >>"$log"
  [[ $rc -eq 0 ]] || { cat "$log" >&2; die "firmware run failed (QEMU exit $rc): $log"; }
  check_calibration "$log"
}

# The cost line of request R in LOG, field F (ticks), as instructions.
cost_of() { # LOG R FIELD
  awk -v r="request=$2" -v f="$3" '
    /chatwire-mps2: cost:/ && index($0, " " r " ") {
      for (i = 1; i <= NF; i++) if (index($i, f "=") == 1) { print substr($i, length(f) + 2) * 40; exit }
    }' "$1"
}

# Two connections in one boot: checks that the second one resumed, on the
# firmware's, the relay's and the server's word. Appends the two handshake
# counts to the files $tmp/hs-KEY.full and $tmp/hs-KEY.resumed.
handshake_pair() { # ELF SERVER V KEY RUN
  local elf=$1 server=$2 v=$3 key=$4 run=$5 log
  log=$logs/hs-$key-$run.log
  local before
  before=$(grep -c /resumed "$logs/server-$server.log" || true)
  boot_fw "$elf" "$server" "$v" "$log" --cost --connections 2 "Hello from the cost run"
  grep -q "request 1: connection 1, full handshake" "$log" ||
    die "$log: the first connection was not a full handshake"
  grep -q "request 2: connection 2, resumed, session: resumed" "$log" ||
    die "$log: the second connection did not resume"
  grep -q "uart_relay: connection 2: .* psk=yes, chose .* psk=" "$log" ||
    die "$log: the relay did not see a session offered on connection 2"
  if [[ $v == 1.3 ]]; then
    grep -q "uart_relay: connection 2: .* psk=yes, chose [0-9a-f]* psk=yes" "$log" ||
      die "$log: the server did not take the TLS 1.3 PSK"
  fi
  [[ $(grep -c /resumed "$logs/server-$server.log" || true) -eq $((before + 1)) ]] ||
    die "$log: the server did not log one resumed connection"
  grep -q "tls=TLSv$v" "$log" || die "$log: not TLS $v"
  cost_of "$log" 1 handshake >>"$tmp/hs-$key.full"
  cost_of "$log" 2 handshake >>"$tmp/hs-$key.resumed"
}

# mean, spread (max-min over mean, %), n of the numbers in FILE
stats() { # FILE
  awk '{ s += $1; if (NR == 1 || $1 < lo) lo = $1; if (NR == 1 || $1 > hi) hi = $1 }
       END { if (NR == 0) { print "- - 0"; exit }
             m = s / NR; printf "%.0f %.2f %d\n", m, (hi - lo) * 100 / m, NR }' "$1"
}

fmt_m() { awk -v n="$1" 'BEGIN { printf "%.1f M", n / 1e6 }'; }
fmt_k() { awk -v n="$1" 'BEGIN { printf "%.1f K", n / 1e3 }'; }

# ------------------------------------------------------------ build
echo "mcu-cost: building (mbedTLS only when its configuration changed)" >&2
build_variant chosen
fw_elf=$out/chosen/chatwire-mps2.elf
bench_elf=$out/chosen/bench.elf
( build_bench "$out/chosen" "$root/examples/qemu-mps2/cw_config_small.h" bench-small.elf ) ||
  die "the cost firmware (small profile) failed to build"
bench_small=$out/chosen/bench-small.elf

start_server ec TLS good
start_server rsa TLS good-rsa
start_server plain

# ------------------------------------------------------------ handshakes
rows=()
echo "mcu-cost: handshakes ($runs run(s) each)" >&2
hs_rows=("1.3 ec" "1.2 ec" "1.3 rsa" "1.2 rsa")
[[ $quick -eq 1 ]] && hs_rows=("1.3 ec")
for row in "${hs_rows[@]}"; do
  read -r v kind <<<"$row"
  key=chosen-$v-$kind
  rm -f "$tmp/hs-$key.full" "$tmp/hs-$key.resumed"
  for r in $(seq 1 "$runs"); do
    handshake_pair "$fw_elf" "$kind" "$v" "$key" "$r"
  done
done

# ------------------------------------------------------------ stream
echo "mcu-cost: recording streams from the test server" >&2
record() { # BIG MODES FILE
  python3 - "$(cat "$tmp/plain.port")" "$1" "$2" "$3" <<'EOF'
import json, socket, sys
port, big, modes, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = json.dumps({"model": "gpt-4-0314", "stream": True, "messages": [
    {"role": "user", "content": "!mode:big=%d%s go" % (big, modes)}]}).encode()
head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
        "Authorization: Bearer test-key\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)).encode()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(head + body)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
open(path, "wb").write(data)
EOF
}
small_n=800
big_n=4000
record "$small_n" ",coalesce" "$out/stream-small.http"
record "$big_n" ",coalesce" "$out/stream-big.http"
record "$small_n" "" "$out/stream-small-chunks.http"
record "$big_n" "" "$out/stream-big-chunks.http"
streams=("$out/stream-small.http" "$out/stream-big.http" "$out/stream-small-chunks.http" "$out/stream-big-chunks.http")
boot_bench "$bench_elf" "$logs/stream-default.log" stream "${streams[@]}"
boot_bench "$bench_small" "$logs/stream-small.log" stream "${streams[@]}"

# per KiB slope of pass P between two recorded streams, in LOG
slope() { # LOG SMALLFILE BIGFILE PASS
  awk -v a="$2" -v b="$3" -v p="pass=$4" '
    index($0, "stream=" a " ") && index($0, " " p " ") { ta = val($0, "ticks"); ba = val($0, "bytes"); ca = val($0, "content") }
    index($0, "stream=" b " ") && index($0, " " p " ") { tb = val($0, "ticks"); bb = val($0, "bytes"); cb = val($0, "content") }
    function val(s, k,   n, i, kv) { n = split(s, kv, " "); for (i = 1; i <= n; i++) if (index(kv[i], k "=") == 1) return substr(kv[i], length(k) + 2); return "" }
    END { if (tb == "" || ta == "") { print "-"; exit } printf "%.0f\n", (tb - ta) * 40 * 1024 / (bb - ba) }' "$1"
}

echo "mcu-cost: record ciphers" >&2
boot_bench "$bench_elf" "$logs/crypto-chosen.log" crypto

# ------------------------------------------------------------ report
echo
echo "chatwire on-target cost: QEMU mps2-an386 (Cortex-M4), -icount shift=0: Timer0 ticks x 40 = guest instructions"
echo "(instructions, not cycles; the polled UART driver and the on_delta callback excluded)"
echo
read -r m s n < <(stats "$tmp/hs-chosen-1.3-ec.full")
echo "handshake tls1.3 ec full: $m instructions (mean of $n, spread $s %)"
read -r m2 s2 n2 < <(stats "$tmp/hs-chosen-1.3-ec.resumed")
echo "handshake tls1.3 ec resumed: $m2 instructions (mean of $n2, spread $s2 %)"
sk=stream-small.http
bk=stream-big.http
echo "stream chatwire per KiB: $(slope "$logs/stream-default.log" $sk $bk client) instructions (default options; slope big=$small_n..$big_n, coalesced)"
echo "stream chatwire per KiB, cw_config_small.h: $(slope "$logs/stream-small.log" $sk $bk client) instructions"
if [[ $quick -eq 0 ]]; then
  for row in "1.2 ec" "1.3 rsa" "1.2 rsa"; do
    read -r v kind <<<"$row"
    read -r m s n < <(stats "$tmp/hs-chosen-$v-$kind.full")
    read -r m2 s2 n2 < <(stats "$tmp/hs-chosen-$v-$kind.resumed")
    echo "handshake tls$v $kind full: $m instructions (mean of $n, spread $s %)"
    echo "handshake tls$v $kind resumed: $m2 instructions (mean of $n2, spread $s2 %)"
  done
  echo
  echo "chatwire per KiB of stream, by layer (instructions):"
  printf '%-34s %10s %10s %10s\n' "layer" "default" "small" "default, chunk/event"
  for p in http sse jsmn grammar json utf8 client; do
    printf '%-34s %10s %10s %10s\n' "$p (cumulative)" \
      "$(slope "$logs/stream-default.log" $sk $bk $p)" "$(slope "$logs/stream-small.log" $sk $bk $p)" \
      "$(slope "$logs/stream-default.log" stream-small-chunks.http stream-big-chunks.http $p)"
  done
  echo
  grep "bench: op=" "$logs/crypto-chosen.log" | sed 's/^bench: //'
fi
echo
echo "mcu-cost: $(( $(date +%s) - t_begin )) s" >&2
