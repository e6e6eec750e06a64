#!/usr/bin/env bash
# mcu-build.sh - cross-build the QEMU mps2-an386 (Cortex-M4) firmware that
# performs one chat completion over HTTPS (examples/qemu-mps2/).
#
#   scripts/mcu-build.sh [--ca PEM] [--out DIR] [--no-public-anchors]
#                        [--cw-config FILE|none] [--mbedtls-dir DIR] [-j N]
#
#   --ca PEM              trust anchor compiled into the firmware for the test
#                         server (default: DIR/certs/ca.pem, made with
#                         tests/server/make_certs.sh when missing)
#   --out DIR             output directory (default build-mcu)
#   --no-public-anchors   leave out the public roots made by
#                         scripts/gen-trust-anchors.sh (by default they are
#                         linked and loaded too, so that sizes are realistic)
#   --cw-config FILE      chatwire's options (CW_CONFIG_FILE) for every file
#                         that includes chatwire.h (default
#                         examples/qemu-mps2/cw_config_small.h, the smallest
#                         build); "none" builds chatwire's defaults
#   --mbedtls-dir DIR     where the mbedTLS library is built and reused
#                         (default DIR/mbedtls of --out)
#
# Compiler: arm-none-eabi-gcc -Os -mcpu=cortex-m4 -mthumb -mfloat-abi=hard
# -mfpu=fpv4-sp-d16, newlib-nano, -ffunction-sections -fdata-sections,
# linked with --gc-sections. What is built:
#   DIR/mbedtls/libmbedtls_mcu.a  mbedTLS 3.6.6 library/*.c from
#                                 third_party/src (scripts/get-deps-src.sh
#                                 --only mbedtls fetches it) with
#                                 ports/mbedtls/mcu/cw_mbedtls_config.h;
#                                 rebuilt only when the config or flags change
#   DIR/obj/                      chatwire src/*.c, cw_tls.c, the MCU glue, the
#                                 firmware, generated trust anchors (+ .su
#                                 stack-usage files; .ci call graphs for
#                                 src/*.c, read by scripts/mcu-size.sh)
#   DIR/gen/                      test_ca.c (DER of --ca), trust_anchors.c
#   DIR/chatwire-mps2.elf, .map   the firmware
# CW_MBEDTLS_USER_CONFIG=/path/to/file.h adds a user config that mbedTLS
# includes after cw_mbedtls_config.h (MBEDTLS_USER_CONFIG_FILE).
# Host tools only: no third-party source is copied into the repository.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build-mcu
ca=""
public_anchors=1
cw_config=$root/examples/qemu-mps2/cw_config_small.h
mbed_out=""
jobs=$(nproc 2>/dev/null || echo 2)

die() { printf 'mcu-build: %s\n' "$*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ca) [[ $# -ge 2 ]] || die "--ca needs a file"; ca=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a directory"; out=$2; shift 2 ;;
    --no-public-anchors) public_anchors=0; shift ;;
    --cw-config) [[ $# -ge 2 ]] || die "--cw-config needs a file or none"; cw_config=$2; shift 2 ;;
    --mbedtls-dir) [[ $# -ge 2 ]] || die "--mbedtls-dir needs a directory"; mbed_out=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

cc=arm-none-eabi-gcc
for t in "$cc" arm-none-eabi-ar arm-none-eabi-size openssl python3; do
  command -v "$t" >/dev/null 2>&1 ||
    die "$t not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi openssl python3)"
done

cpu=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
common=(-std=c99 -Os -g "${cpu[@]}" -ffunction-sections -fdata-sections
        -fno-common -fstack-usage)
warn=(-Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror)
mcu_dir=$root/ports/mbedtls/mcu
cfg_def=(-DMBEDTLS_CONFIG_FILE='"cw_mbedtls_config.h"' -DCW_MBEDTLS_MEMORY_DEBUG)
if [[ -n "${CW_MBEDTLS_USER_CONFIG:-}" ]]; then
  user_cfg=$(cd "$(dirname "$CW_MBEDTLS_USER_CONFIG")" && pwd)/$(basename "$CW_MBEDTLS_USER_CONFIG")
  [[ -f "$user_cfg" ]] || die "CW_MBEDTLS_USER_CONFIG: $user_cfg not found"
  cfg_def+=(-DMBEDTLS_USER_CONFIG_FILE="\"$user_cfg\"")
fi

# ------------------------------------------------------------ mbedTLS
mbed_src=${CW_MBEDTLS_SRC:-$root/third_party/src/mbedtls-3.6.6}
if [[ ! -f "$mbed_src/library/ssl_tls.c" ]]; then
  echo "mcu-build: fetching mbedTLS source (scripts/get-deps-src.sh --only mbedtls)" >&2
  bash "$root/scripts/get-deps-src.sh" --only mbedtls >&2
fi
[[ -f "$mbed_src/library/ssl_tls.c" ]] || die "no mbedTLS source in $mbed_src"

mbed_out=${mbed_out:-$out/mbedtls}
mkdir -p "$mbed_out"
mbed_out=$(cd "$mbed_out" && pwd)
mbed_lib=$mbed_out/libmbedtls_mcu.a
mbed_id=$( { cat "$mcu_dir/cw_mbedtls_config.h" ${user_cfg:+"$user_cfg"}; echo "$mbed_src";
             printf '%s\n' "${common[@]}" "${cfg_def[@]}"; "$cc" --version | head -n 1; } |
           sha256sum | cut -d' ' -f1)
if [[ -f "$mbed_lib" && -f "$mbed_out/.id" && "$(cat "$mbed_out/.id")" == "$mbed_id" ]]; then
  echo "mcu-build: mbedTLS up to date ($mbed_lib)" >&2
else
  echo "mcu-build: building mbedTLS $(basename "$mbed_src") for Cortex-M4 (-j$jobs)" >&2
  rm -rf "$mbed_out"
  mkdir -p "$mbed_out/obj"
  # warnings in third-party code are not ours to fix: silenced (-w)
  export MBED_OBJ_DIR="$mbed_out/obj"
  # shellcheck disable=SC2016  # expanded by the inner sh
  printf '%s\0' "$mbed_src"/library/*.c | xargs -0 -P "$jobs" -I{} sh -c \
    'f=$1; shift; exec "$@" -c "$f" -o "$MBED_OBJ_DIR/$(basename "$f" .c).o"' \
    sh {} "$cc" "${common[@]}" "${cfg_def[@]}" -I"$mcu_dir" -I"$mbed_src/include" \
    -I"$mbed_src/library" -w
  arm-none-eabi-ar rcs "$mbed_lib" "$mbed_out"/obj/*.o
  echo "$mbed_id" >"$mbed_out/.id"
fi

# ------------------------------------------------------------ generated
gen=$out/gen
mkdir -p "$gen" "$out/jsmn" "$out/obj"
cp /usr/include/jsmn.h "$out/jsmn/jsmn.h"   # only jsmn.h, nothing else of /usr/include

if [[ -z "$ca" ]]; then
  bash "$root/tests/server/make_certs.sh" "$out/certs"
  ca=$out/certs/ca.pem
fi
[[ -f "$ca" ]] || die "CA file '$ca' not found"
openssl x509 -in "$ca" -outform DER -out "$gen/test_ca.der"
python3 - "$gen/test_ca.der" "$gen/test_ca.c" <<'EOF'
import sys
der = open(sys.argv[1], 'rb').read()
rows = [', '.join('0x%02x' % b for b in der[i:i + 12]) for i in range(0, len(der), 12)]
with open(sys.argv[2], 'w') as f:
    f.write('/* Generated by scripts/mcu-build.sh from the test CA: do not edit. */\n')
    f.write('#include <stddef.h>\n\n')
    f.write('const unsigned char cw_fw_test_ca[] = {\n    ' + ',\n    '.join(rows) + '\n};\n')
    f.write('const size_t cw_fw_test_ca_len = sizeof cw_fw_test_ca;\n')
EOF

if [[ $public_anchors -eq 1 ]]; then
  bash "$root/scripts/gen-trust-anchors.sh" "$gen/trust_anchors.c"
else
  bash "$root/scripts/gen-trust-anchors.sh" --empty "$gen/trust_anchors.c"
fi

# The fixed "now" for certificate validity: the build time (a lower bound of
# the real time). SOURCE_DATE_EPOCH makes it reproducible.
build_time=${SOURCE_DATE_EPOCH:-$(date +%s)}

# ------------------------------------------------------------ our code
fw=$root/examples/qemu-mps2
inc=(-I"$root/include" -I"$root/src" -I"$root/ports/mbedtls" -I"$mcu_dir"
     -I"$fw" -I"$mbed_src/include" -isystem "$out/jsmn")
if [[ "$cw_config" != none ]]; then
  [[ -f "$cw_config" ]] || die "--cw-config: $cw_config not found"
  cw_config=$(cd "$(dirname "$cw_config")" && pwd)/$(basename "$cw_config")
  inc+=(-DCW_CONFIG_FILE="\"$cw_config\"")
fi
objs=()
compile() { # src obj extra-flags...
  local src=$1 obj=$2; shift 2
  "$cc" "${common[@]}" "${cfg_def[@]}" "${inc[@]}" "$@" -c "$src" -o "$obj"
  objs+=("$obj")
}
rm -f "$out"/obj/*.o "$out"/obj/*.su "$out"/obj/*.ci
for s in "$root"/src/*.c; do
  compile "$s" "$out/obj/$(basename "$s" .c).o" "${warn[@]}" -fcallgraph-info=su
done
compile "$root/ports/mbedtls/cw_tls.c" "$out/obj/cw_tls.o" "${warn[@]}"
for s in "$mcu_dir"/*.c; do
  compile "$s" "$out/obj/$(basename "$s" .c).o" "${warn[@]}"
done
for s in "$fw"/*.c; do
  compile "$s" "$out/obj/fw_$(basename "$s" .c).o" "${warn[@]}" \
    -DCW_FW_BUILD_TIME="${build_time}LL"
done
compile "$gen/test_ca.c" "$out/obj/test_ca.o"
compile "$gen/trust_anchors.c" "$out/obj/trust_anchors.o" -I"$mcu_dir"

# ------------------------------------------------------------ link
elf=$out/chatwire-mps2.elf
"$cc" "${cpu[@]}" -Os -nostartfiles --specs=nano.specs --specs=rdimon.specs \
  -T "$fw/mps2_an386.ld" -Wl,--gc-sections -Wl,-Map="$out/chatwire-mps2.map" \
  -Wl,--print-memory-usage \
  "${objs[@]}" "$mbed_lib" -o "$elf" >"$out/link.log"
arm-none-eabi-size "$elf" >&2
echo "mcu-build: $elf" >&2
echo "ELF=$elf"
