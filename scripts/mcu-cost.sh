#!/usr/bin/env bash
# mcu-cost.sh - what a TLS handshake and a streamed answer cost on the
# Cortex-M4 (QEMU mps2-an386), in guest instructions, counted
# deterministically.
#
#   scripts/mcu-cost.sh [--quick] [--check] [--runs N] [--no-variants] [-j N]
#
# Method. QEMU runs with -icount shift=0,align=off,sleep=off: one guest
# instruction advances virtual time by exactly 1 ns, so CMSDK Timer0
# (25 MHz) advances one tick per 40 instructions. Every figure is Timer0
# ticks x 40: instructions, not cycles and not time on a device (a real
# Cortex-M4 needs more cycles than instructions: wait states, multi-cycle
# loads and branches). Each boot first checks the calibration: a loop of
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
#    the firmware says "resumed", the relay saw the PSK offered and, in TLS
#    1.3, taken, the server logged /resumed). TLS 1.3 and 1.2, EC P-256 and
#    RSA-2048 server certificates (both signed by the P-256 test CA).
#  - stream, chatwire: the cost firmware (examples/qemu-mps2/cost) feeds
#    responses recorded from the test server (big=N,coalesce: the answer in
#    full 16 KiB TLS records, as the notes measured it; and one HTTP chunk
#    per event) from RAM through each layer and through cw_chat. Per KiB =
#    the slope between two answer sizes, per KiB of plaintext stream (the
#    HTTP response). No network: identical at every run. Default options
#    and examples/qemu-mps2/cw_config_small.h.
#  - record ciphers: psa_aead_decrypt (TLS's record path with
#    MBEDTLS_USE_PSA_CRYPTO) of 1 and 16 KiB records in the cost firmware;
#    and, not with --quick, mbedtls_ssl_read per KiB in the firmware over
#    TLS 1.3, each AEAD offered alone, with chatwire's part of the same run.
#  - mbedTLS variants (not with --quick or --no-variants): option sets over
#    ports/mbedtls/mcu/cw_mbedtls_config.h (a user config) and compiler
#    flags, their flash (mbedTLS as linked into the firmware, and the
#    firmware) and what their operations and handshakes cost.
# --quick: the chosen configuration, one boot, the three required lines
# (CI). --check: exit 1 unless the full TLS 1.3 EC handshake is at most
# 50 M instructions and chatwire's work at most 15 K per KiB of stream
# (the default build). --runs N: boots per handshake row (default 3: the
# mean and the spread). Builds go to build-mcu/cost/ (mbedTLS per variant,
# rebuilt only when its config or flags changed). Logs: build-mcu/cost/logs/.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build-mcu/cost
quick=0
check=0
runs=3
variants=1
jobs=2
die() { printf 'mcu-cost: %s\n' "$*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; runs=1; variants=0; shift ;;
    --check) check=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    --no-variants) variants=0; shift ;;
    -j) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive number"
command -v qemu-system-arm >/dev/null || die "qemu-system-arm not found (apt-get install qemu-system-arm)"
t_begin=$(date +%s)
logs=$out/logs
data=$out/data   # what the report reads: name value lines
rm -rf "$logs" "$data"
mkdir -p "$logs" "$data"

# ------------------------------------------------------------ variants
# name|what|user config lines (\n-separated)|files compiled for speed|their
# flags|p256-m's public key kept (1) or computed again on export (0).
# "chosen" is cw_mbedtls_config.h as it is, with mcu-common.sh's defaults
# for the rest ("-" in the fourth and fifth fields).
variant_table=(
  "chosen|the MCU config as it is (p256-m + USE_PSA, p256-m.c -O3 without inlining)||-|-|1"
  "chosen-recompute|the MCU config, but p256-m's driver as it is (a key pair's public key computed again when exported)||-|-|0"
  "base|before: legacy ECP, window 2, no fixed-point tables, PSA copies buffers, all -Os|#undef MBEDTLS_USE_PSA_CRYPTO\n#undef MBEDTLS_PSA_P256M_DRIVER_ENABLED\n#undef MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS|||0"
  "ecp4|legacy ECP, window 4 + fixed-point tables|#undef MBEDTLS_USE_PSA_CRYPTO\n#undef MBEDTLS_PSA_P256M_DRIVER_ENABLED\n#undef MBEDTLS_ECP_WINDOW_SIZE\n#define MBEDTLS_ECP_WINDOW_SIZE 4\n#undef MBEDTLS_ECP_FIXED_POINT_OPTIM\n#define MBEDTLS_ECP_FIXED_POINT_OPTIM 1|||0"
  "ecp4-O2|ecp4, bignum and ECP compiled -O2|#undef MBEDTLS_USE_PSA_CRYPTO\n#undef MBEDTLS_PSA_P256M_DRIVER_ENABLED\n#undef MBEDTLS_ECP_WINDOW_SIZE\n#define MBEDTLS_ECP_WINDOW_SIZE 4\n#undef MBEDTLS_ECP_FIXED_POINT_OPTIM\n#define MBEDTLS_ECP_FIXED_POINT_OPTIM 1|library/bignum.c library/bignum_core.c library/ecp.c library/ecp_curves.c|-O2|0"
  "p256m|p256-m driver without USE_PSA, -Os|#undef MBEDTLS_USE_PSA_CRYPTO|||0"
  "usepsa|USE_PSA without p256-m|#undef MBEDTLS_PSA_P256M_DRIVER_ENABLED|||0"
  "p256m+usepsa-Os|p256-m + USE_PSA, all -Os||||0"
  "p256m+usepsa-O2|p256-m + USE_PSA, p256-m.c -O2||3rdparty/p256-m/p256-m/p256-m.c|-O2|0"
  "p256m+usepsa-O3|p256-m + USE_PSA, p256-m.c -O3 with inlining||3rdparty/p256-m/p256-m/p256-m.c|-O3|0"
  "chosen+ecp4|chosen, and window 4 + fixed-point tables for P-384 and X25519|#undef MBEDTLS_ECP_WINDOW_SIZE\n#define MBEDTLS_ECP_WINDOW_SIZE 4\n#undef MBEDTLS_ECP_FIXED_POINT_OPTIM\n#define MBEDTLS_ECP_FIXED_POINT_OPTIM 1|-|-|1"
)
variant_field() { # NAME FIELD(1-6)
  local v
  for v in "${variant_table[@]}"; do
    [[ "${v%%|*}" == "$1" ]] && { cut -d'|' -f"$2" <<<"$v"; return; }
  done
  die "no variant $1"
}

certs=$root/build-mcu/certs
bash "$root/tests/server/make_certs.sh" "$certs" >/dev/null

# Runs "$@" with the variant's mbedTLS settings in the environment.
with_variant() { # NAME CMD...
  local name=$1; shift
  local cfg="" lines fast flags keep
  lines=$(variant_field "$name" 3)
  keep=$(variant_field "$name" 6)
  fast=$(variant_field "$name" 4)
  flags=$(variant_field "$name" 5)
  if [[ -n "$lines" ]]; then
    cfg=$out/$name/user_config.h
    mkdir -p "$out/$name"
    printf '/* mcu-cost.sh variant %s */\n%b\n' "$name" "$lines" >"$cfg.new"
    if cmp -s "$cfg.new" "$cfg"; then rm -f "$cfg.new"; else mv -f "$cfg.new" "$cfg"; fi
  fi
  if [[ "$fast" == "-" ]]; then
    CW_MBEDTLS_P256M_KEEP_PUBLIC=$keep CW_MBEDTLS_USER_CONFIG=$cfg "$@"
  else
    CW_MBEDTLS_P256M_KEEP_PUBLIC=$keep CW_MBEDTLS_USER_CONFIG=$cfg CW_MBEDTLS_FAST_FILES=$fast \
      CW_MBEDTLS_FAST_FLAGS=${flags:--Os} "$@"
  fi
}

# Where a variant's mbedTLS is built: the chosen one shares mcu-build.sh's
# (the same configuration and flags), the others have their own.
mbedtls_dir() { # NAME
  if [[ $1 == chosen ]]; then echo "$root/build-mcu/mbedtls"; else echo "$out/$1/mbedtls"; fi
}

# The firmware (default chatwire options) and the cost firmware of a
# variant, in $out/NAME. mbedTLS is rebuilt only when its id changed.
build_variant() { # NAME
  local name=$1 dir=$out/$1
  mkdir -p "$dir"
  with_variant "$name" nice bash "$root/scripts/mcu-build.sh" --out "$dir" --cw-config none \
    --mbedtls-dir "$(mbedtls_dir "$name")" --ca "$certs/ca.pem" -j "$jobs" >"$dir/build.log" 2>&1 ||
    { cat "$dir/build.log" >&2; die "build of variant $name failed"; }
  ( with_variant "$name" build_bench "$dir" none bench.elf "$(mbedtls_dir "$name")" ) \
    >"$dir/bench-build.log" 2>&1 ||
    { cat "$dir/bench-build.log" >&2; die "cost firmware of variant $name failed"; }
}

# The cost firmware DIR/ELF, with chatwire's options CWCFG (none: the
# defaults), linked with the mbedTLS in MBEDTLS_DIR. Run in a subshell: it
# sources mcu-common.sh, which reads the variant's settings from the
# environment.
build_bench() { # DIR CWCFG ELF MBEDTLS_DIR
  local dir=$1 cwcfg=$2 elf=$1/$3 mbed_dir=$4 obj
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
              "$mcu_dir/cw_tls_mcu.c" "${cw_srcs[@]}")
  local s o objs=()
  for s in "${srcs[@]}"; do
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
    "${objs[@]}" "$mbed_dir/libmbedtls_mcu.a" -o "$elf"
}

# ------------------------------------------------------------ servers
# shellcheck source=scripts/procs.sh
source "$root/scripts/procs.sh"
procs_init cw-mcu-cost

start_server() { # NAME [CERT]
  local name=$1
  local args=(--port 0 --port-file "$tmp/$name.port" --key test-key
              --read-timeout-ms 60000 --quiet --event-log "$logs/server-$name.log")
  [[ $# -ge 2 ]] && args+=(--tls-cert "$certs/$2.pem" --tls-key "$certs/$2.key")
  : >"$logs/server-$name.log"
  python3 "$root/tests/server/chat_server.py" "${args[@]}" &
  pids+=($!)
  wait_file "$tmp/$name.port" "${pids[-1]}" "test server $name"
}

# ------------------------------------------------------------ boots
qarg() { printf 'arg=%s' "${1//,/,,}"; }

check_calibration() { # LOG
  grep -qE "calibration: 2000000 instructions in 5000[01] ticks" "$1" ||
    die "$1: the calibration loop did not read 50,000 ticks: is -icount shift=0 in effect?"
}

# One boot of the cost firmware ELF with the semihosting words ARGS...
boot_bench() { # ELF LOG ARGS...
  local elf=$1 log=$2; shift 2
  local semi="enable=on,target=native,arg=bench" w
  for w in "$@"; do semi+=",$(qarg "$w")"; done
  timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none -nic none \
    -icount shift=0,align=off,sleep=off -semihosting-config "$semi" \
    -kernel "$elf" >"$log" 2>&1 || { cat "$log" >&2; die "cost firmware failed ($log)"; }
  check_calibration "$log"
  grep -q "^bench: done" "$log" || die "$log: the cost firmware did not finish"
}

# One boot of the firmware ELF against server SERVER, TLS version V, with
# the firmware's options and prompt in ARGS...
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
  # -nic none: the firmware's Timer1 gives QEMU the deadlines at which it
  # reads the UART sockets under -icount (mps2_uart.c)
  timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -nic none -icount shift=0,align=off,sleep=off -semihosting-config "$semi" \
    -serial "tcp:127.0.0.1:$rport" -serial "tcp:127.0.0.1:$cport" \
    -kernel "$elf" >"$log" 2>&1 || rc=$?
  wait "$relay" 2>/dev/null || true
  cat "$tmp/relay.log" >>"$log"
  [[ $rc -eq 0 ]] || { cat "$log" >&2; die "firmware run failed (QEMU exit $rc): $log"; }
  check_calibration "$log"
}

# Field F (ticks) of the cost line of request R in LOG, as instructions.
cost_of() { # LOG R FIELD
  awk -v r="request=$2" -v f="$3" '
    /chatwire-mps2: cost:/ && index($0, " " r " ") {
      for (i = 1; i <= NF; i++) if (index($i, f "=") == 1) { print substr($i, length(f) + 2) * 40; exit }
    }' "$1"
}

# Two connections in one boot; checks that the second one resumed, on the
# firmware's, the relay's and the server's word. Appends the handshake
# counts to $data/hs-KEY.full and .resumed, the suite to .suite.
handshake_pair() { # ELF SERVER V KEY RUN
  local elf=$1 server=$2 v=$3 key=$4 run=$5 log before
  log=$logs/hs-$key-$run.log
  before=$(grep -c /resumed "$logs/server-$server.log" || true)
  boot_fw "$elf" "$server" "$v" "$log" --cost --connections 2 "Hello from the cost run"
  grep -q "request 1: connection 1, full handshake" "$log" ||
    die "$log: the first connection was not a full handshake"
  grep -q "request 2: connection 2, resumed, session: resumed" "$log" ||
    die "$log: the second connection did not resume"
  if [[ $v == 1.3 ]]; then
    grep -q "uart_relay: connection 2: .* psk=yes ticket=no, chose [0-9a-f]* psk=yes" "$log" ||
      die "$log: the relay did not see a TLS 1.3 PSK offered and taken on connection 2"
  else
    grep -q "uart_relay: connection 2: .* psk=no ticket=yes, chose" "$log" ||
      die "$log: the relay did not see a TLS 1.2 session ticket offered on connection 2"
  fi
  [[ $(grep -c /resumed "$logs/server-$server.log" || true) -eq $((before + 1)) ]] ||
    die "$log: the server did not log one resumed connection"
  grep -q "cost: request=1 resumed=0 tls=TLSv$v " "$log" || die "$log: not TLS $v"
  cost_of "$log" 1 handshake >>"$data/hs-$key.full"
  cost_of "$log" 2 handshake >>"$data/hs-$key.resumed"
  sed -n 's/^uart_relay: connection 1: .* chose \([0-9a-f]*\) .*/\1/p' "$log" >"$data/hs-$key.suite"
}

handshakes() { # VARIANT ROWS RUNS
  local name=$1 rows=$2 n=$3 row v kind r
  for row in $rows; do
    v=${row%-*}; kind=${row#*-}
    for r in $(seq 1 "$n"); do
      handshake_pair "$out/$name/chatwire-mps2.elf" "$kind" "$v" "$name-$v-$kind" "$r"
    done
  done
}

# ------------------------------------------------------------ build
echo "mcu-cost: building (mbedTLS only when its configuration changed)" >&2
build_variant chosen
( build_bench "$out/chosen" "$root/examples/qemu-mps2/cw_config_small.h" bench-small.elf \
  "$(mbedtls_dir chosen)" ) \
  >"$out/chosen/bench-small-build.log" 2>&1 ||
  { cat "$out/chosen/bench-small-build.log" >&2; die "the cost firmware (small profile) failed to build"; }

start_server ec good
start_server rsa good-rsa
start_server plain

# ------------------------------------------------------------ handshakes
echo "mcu-cost: handshakes ($runs boot(s) each)" >&2
if [[ $quick -eq 1 ]]; then
  handshakes chosen "1.3-ec" 1
else
  handshakes chosen "1.3-ec 1.2-ec 1.3-rsa 1.2-rsa" "$runs"
fi

# ------------------------------------------------------------ stream
echo "mcu-cost: chatwire on recorded streams" >&2
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
if not data.startswith(b"HTTP/1.1 200"):
    sys.exit("mcu-cost: the test server did not stream: %r" % data[:80])
open(path, "wb").write(data)
EOF
}
small_n=800
big_n=4000
streams=()
for n in "$small_n" "$big_n"; do
  record "$n" ",coalesce" "$out/stream-$n.http"
  record "$n" "" "$out/stream-$n-chunks.http"
  streams+=("$out/stream-$n.http" "$out/stream-$n-chunks.http")
done
boot_bench "$out/chosen/bench.elf" "$logs/stream-default.log" stream "${streams[@]}"
boot_bench "$out/chosen/bench-small.elf" "$logs/stream-small.log" stream "${streams[@]}"
for f in "$logs/stream-default.log" "$logs/stream-small.log"; do
  for n in "$small_n" "$big_n"; do
    grep -q "stream=stream-$n.http .* content=$n pass=client " "$f" ||
      die "$f: cw_chat did not deliver the $n bytes of the answer"
  done
done

echo "mcu-cost: crypto operations and record ciphers" >&2
boot_bench "$out/chosen/bench.elf" "$logs/crypto-chosen.log" crypto

# ------------------------------------------------------------ over TLS
if [[ $quick -eq 0 ]]; then
  echo "mcu-cost: streams over TLS 1.3, one AEAD offered at a time" >&2
  for suite in chacha aes128 aes256; do
    for n in "$small_n" "$big_n"; do
      log=$logs/tls-$suite-$n.log
      boot_fw "$out/chosen/chatwire-mps2.elf" ec 1.3 "$log" --cost --suite "$suite" \
        "!mode:big=$n,coalesce go"
      want=$(python3 -c "
import sys; sys.dont_write_bytecode = True; sys.path.insert(0, sys.argv[1])
import chat_server
h = 2166136261
for b in chat_server.lorem(int(sys.argv[2])).encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
print('%08x' % h)" "$root/tests/server" "$n")
      grep -q "cost: request=1 .* content=$n fnv=$want " "$log" ||
        die "$log: the answer did not arrive whole and intact (FNV-1a $want expected)"
      sed -n 's/^uart_relay: connection 1: .* chose \([0-9a-f]*\) .*/\1/p' "$log" >"$data/tls-$suite.suite"
    done
  done
fi

# ------------------------------------------------------------ variants
if [[ $variants -eq 1 ]]; then
  for v in "${variant_table[@]}"; do
    name=${v%%|*}
    [[ $name == chosen ]] && continue
    echo "mcu-cost: variant $name" >&2
    build_variant "$name"
    boot_bench "$out/$name/bench.elf" "$logs/crypto-$name.log" crypto
    handshakes "$name" "1.3-ec" "$runs"
    handshakes "$name" "1.2-ec 1.3-rsa 1.2-rsa" 1
  done
fi

# ------------------------------------------------------------ report
for v in "${variant_table[@]}"; do
  name=${v%%|*}
  [[ -f "$out/$name/chatwire-mps2.map" ]] || continue
  printf '%s|%s\n' "$name" "$(variant_field "$name" 2)" >>"$data/variants"
done
python3 - "$root" "$out" "$data" "$logs" "$quick" "$check" "$small_n" "$big_n" \
  "$(( $(date +%s) - t_begin ))" <<'EOF'
import os, re, sys
sys.dont_write_bytecode = True
root, out, data, logs, quick, check, small_n, big_n, took = sys.argv[1:10]
quick, check = quick == "1", check == "1"
sys.path.insert(0, os.path.join(root, "scripts"))
from mcu_map import parse_map

SUITES = {"1301": "TLS_AES_128_GCM_SHA256", "1302": "TLS_AES_256_GCM_SHA384",
          "1303": "TLS_CHACHA20_POLY1305_SHA256",
          "c02b": "ECDHE-ECDSA-AES128-GCM-SHA256", "c02c": "ECDHE-ECDSA-AES256-GCM-SHA384",
          "c02f": "ECDHE-RSA-AES128-GCM-SHA256", "c030": "ECDHE-RSA-AES256-GCM-SHA384",
          "cca8": "ECDHE-RSA-CHACHA20-POLY1305", "cca9": "ECDHE-ECDSA-CHACHA20-POLY1305"}

def numbers(path):
    try:
        return [float(l) for l in open(path) if l.strip()]
    except OSError:
        return []

def stats(path):
    v = numbers(path)
    if not v:
        return None
    m = sum(v) / len(v)
    return m, (max(v) - min(v)) * 100.0 / m, len(v)

def suite(path):
    try:
        s = open(path).read().split()
        return SUITES.get(s[0], s[0]) if s else "-"
    except OSError:
        return "-"

def bench_log(path):
    """stream lines: {(file, pass): (bytes, events, ticks)}, op lines."""
    streams, ops = {}, {}
    for l in open(path, errors="replace"):
        m = re.match(r"bench: stream=(\S+) bytes=(\d+) events=(\d+) content=\d+ pass=(\S+) ticks=(\d+)", l)
        if m:
            streams[(m.group(1), m.group(4))] = (int(m.group(2)), int(m.group(3)), int(m.group(5)) * 40)
        m = re.match(r"bench: op=(\S+) ticks=(\d+)", l)
        if m:
            ops.setdefault(m.group(1), []).append(int(m.group(2)) * 40)
    return streams, ops

def slope(streams, a, b, p):
    if (a, p) not in streams or (b, p) not in streams:
        return None
    (ba, _, ta), (bb, _, tb) = streams[(a, p)], streams[(b, p)]
    return (tb - ta) * 1024.0 / (bb - ba)

def fm(n):
    return "%.1f M" % (n / 1e6) if n is not None else "-"

def fk(n):
    return "%.1f K" % (n / 1e3) if n is not None else "-"

print()
print("chatwire on-target cost: QEMU mps2-an386 (Cortex-M4), -icount shift=0: guest instructions")
print("(Timer0 ticks x 40, calibrated every boot; not cycles; the polled UART driver and the")
print(" on_delta callback excluded)")
print()

# handshakes
hs = {}
for row in ("1.3-ec", "1.2-ec", "1.3-rsa", "1.2-rsa"):
    v, kind = row.split("-")
    for what in ("full", "resumed"):
        st = stats("%s/hs-chosen-%s.%s" % (data, row, what))
        if st:
            hs[(row, what)] = st[0]
            print("handshake tls%s %s %s: %.0f instructions (mean of %d, spread %.2f %%, %s)"
                  % (v, kind, what, st[0], st[2], st[1], suite("%s/hs-chosen-%s.suite" % (data, row))))

# streams
sd, ops = bench_log(os.path.join(logs, "stream-default.log"))
ss, _ = bench_log(os.path.join(logs, "stream-small.log"))
a, b = "stream-%s.http" % small_n, "stream-%s.http" % big_n
ac, bc = "stream-%s-chunks.http" % small_n, "stream-%s-chunks.http" % big_n
cw = slope(sd, a, b, "client")
cw_small = slope(ss, a, b, "client")
print("stream chatwire per KiB: %.0f instructions (default options; answer in 16 KiB records, "
      "slope big=%s..%s)" % (cw, small_n, big_n))
print("stream chatwire per KiB, cw_config_small.h: %.0f instructions" % cw_small)
if not quick:
    print("stream chatwire per KiB, one HTTP chunk per event: %.0f instructions "
          "(cw_config_small.h: %.0f)" % (slope(sd, ac, bc, "client"), slope(ss, ac, bc, "client")))
    def layers(st, fast):
        out = []
        for x, y in ((a, b), (ac, bc)):
            g = lambda p: slope(st, x, y, p)
            r = [("HTTP, chunked framing (cw_http)", g("http")),
                 ("SSE (cw_sse)", g("sse") - g("http"))]
            if fast:
                r += [("JSON, fast path: tokens, grammar, extraction", g("json") - g("sse")),
                      ("  (jsmn alone would take)", g("jsmn") - g("sse")),
                      ("  (and the grammar check)", g("grammar") - g("jsmn"))]
            else:
                r += [("JSON tokenizing (jsmn)", g("jsmn") - g("sse")),
                      ("JSON grammar check", g("grammar") - g("jsmn")),
                      ("JSON extraction, unescaping", g("json") - g("grammar"))]
            r += [("UTF-8 delivery (cw_utf8_check of the deltas)", g("utf8") - g("json")),
                  ("the rest of cw_chat (receive loop, on_event)", g("client") - g("utf8")),
                  ("total", g("client"))]
            out.append(r)
        return out
    for title, st, fast in (("default options (stream fast paths on)", sd, True),
                            ("cw_config_small.h (jsmn path)", ss, False)):
        co, ch = layers(st, fast)
        print()
        print("chatwire per KiB of stream by layer, %s:" % title)
        fmt = "  %-46s %9s %16s"
        print(fmt % ("layer (instructions per KiB)", "16 KiB", "chunk per event"))
        for (name, v1), (_, v2) in zip(co, ch):
            print(fmt % (name, "%.0f" % v1, "%.0f" % v2))

# record ciphers (the cost firmware, psa_aead_decrypt: TLS's record path here)
_, cops = bench_log(os.path.join(logs, "crypto-chosen.log"))
print()
for key, label in (("chachapoly", "chacha20-poly1305"), ("aes128gcm", "aes-128-gcm"),
                   ("aes256gcm", "aes-256-gcm")):
    o1, o16 = cops.get(key + "_psa_1k"), cops.get(key + "_psa_16k")
    if o1 and o16:
        per = (o16[-1] - o1[-1]) / 15.0
        print("record %s per KiB: %.0f instructions (psa_aead_decrypt, %.0f more per record)"
              % (label, per, o1[-1] - per))

if not quick:
    def tls_run(s, n):
        path = os.path.join(logs, "tls-%s-%s.log" % (s, n))
        r = {}
        for l in open(path, errors="replace"):
            if "chatwire-mps2: cost:" in l:
                for kv in l.split():
                    if "=" in kv:
                        k, v = kv.split("=", 1)
                        r[k] = v
        return r
    print()
    print("over TLS 1.3 in the firmware (mbedtls_ssl_read, full 16 KiB records; the AEAD offered alone;")
    print(" per KiB of plaintext, slope big=%s..%s):" % (small_n, big_n))
    for s, label in (("chacha", "chacha20-poly1305"), ("aes128", "aes-128-gcm"), ("aes256", "aes-256-gcm")):
        x, y = tls_run(s, small_n), tls_run(s, big_n)
        kib = (int(y["plain_in"]) - int(x["plain_in"])) / 1024.0
        rec = (int(y["tls_in"]) - int(x["tls_in"])) * 40 / kib
        own = (int(y["chatwire"]) - int(x["chatwire"])) * 40 / kib
        print("stream tls %s per KiB: %.0f instructions (record %.0f + chatwire %.0f; %s)"
              % (label, rec + own, rec, own, suite("%s/tls-%s.suite" % (data, s))))

    print()
    print("operations (cost firmware, the chosen configuration; instructions):")
    def op(o, k):
        v = o.get(k)
        return v[-1] if v else None
    rows = [("P-256 key generation (psa_generate_key)", op(cops, "p256_generate")),
            ("P-256 public key export (psa_export_public_key)", op(cops, "p256_export_public")),
            ("P-256 ECDH", op(cops, "p256_shared_secret")),
            ("X25519 key generation + export", (op(cops, "x25519_generate") or 0) + (op(cops, "x25519_export_public") or 0)),
            ("X25519 ECDH", op(cops, "x25519_shared_secret")),
            ("ECDSA P-256 verify", op(cops, "ecdsa_p256_verify")),
            ("ECDSA P-384 verify", op(cops, "ecdsa_p384_verify")),
            ("RSA-2048 verify", op(cops, "rsa2048_verify")),
            ("RSA-4096 verify", op(cops, "rsa4096_verify")),
            ("SHA-256 per KiB", (op(cops, "sha256_16k") - op(cops, "sha256_1k")) / 15.0),
            ("SHA-384 per KiB", (op(cops, "sha384_16k") - op(cops, "sha384_1k")) / 15.0)]
    for name, v in rows:
        print("  %-48s %12s" % (name, "%.0f" % v if v is not None else "-"))

# variants
vpath = os.path.join(data, "variants")
if not quick and os.path.exists(vpath):
    print()
    print("mbedTLS variants (the MCU config, a user config and compiler flags; flash = text + rodata + data")
    print("as linked into the firmware with chatwire's default options; handshakes: mean of the boots):")
    fmt = "%-17s %9s %9s %8s %8s %8s %9s %9s %9s %9s %9s"
    print(fmt % ("variant", "mbedTLS", "firmware", "P-256", "P-256", "X25519", "TLS1.3 EC", "TLS1.3 EC", "TLS1.2 EC",
                 "TLS1.3", "TLS1.2"))
    print(fmt % ("", "flash", "flash", "verify", "ECDHE", "ECDHE", "full", "resumed", "full", "RSA", "RSA"))
    base_flash = None
    for line in open(vpath):
        name, what = line.rstrip("\n").split("|", 1)
        sizes, _ = parse_map(os.path.join(out, name, "chatwire-mps2.map"),
                             lambda p: "mbedtls" if "libmbedtls_mcu.a(" in p else "other")
        fl = lambda d: d["text"] + d["rodata"] + d["data"]
        mb = fl(sizes["mbedtls"])
        tot = mb + fl(sizes["other"])
        _, vo = bench_log(os.path.join(logs, "crypto-%s.log" % name))
        g = lambda k: vo[k][-1] if k in vo else 0
        ecdhe = g("p256_generate") + g("p256_export_public") + g("p256_shared_secret")
        x = g("x25519_generate") + g("x25519_export_public") + g("x25519_shared_secret")
        h = lambda row, w: stats("%s/hs-%s-%s.%s" % (data, name, row, w))
        cell = lambda st: fm(st[0]) if st else "-"
        print(fmt % (name, mb, tot, fm(g("ecdsa_p256_verify")), fm(ecdhe), fm(x),
                     cell(h("1.3-ec", "full")), cell(h("1.3-ec", "resumed")), cell(h("1.2-ec", "full")),
                     cell(h("1.3-rsa", "full")), cell(h("1.2-rsa", "full"))))
    print("variants:")
    for line in open(vpath):
        name, what = line.rstrip("\n").split("|", 1)
        print("  %-17s %s" % (name, what))

print()
print("mcu-cost: %s s" % took)
fails = []
if check:
    full = hs.get(("1.3-ec", "full"))
    if full is None or full > 50e6:
        fails.append("the full TLS 1.3 EC handshake is %s instructions, over 50 M" % fm(full))
    if cw > 15000:
        fails.append("chatwire's work is %.0f instructions per KiB of stream, over 15 K" % cw)
for f in fails:
    print("mcu-cost: FAIL: " + f)
sys.exit(1 if fails else 0)
EOF
