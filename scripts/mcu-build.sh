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
#   DIR/obj/                      chatwire src/core, src/client, cw_tls.c, the MCU glue, the
#                                 firmware, generated trust anchors (+ .su
#                                 stack-usage files; .ci call graphs for
#                                 src/core, src/client, read by scripts/mcu-size.sh)
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

# toolchain, flags, the mbedTLS library build and the generated sources are
# shared with the other Cortex-M4 builds
# shellcheck source=scripts/mcu-common.sh
source "$root/scripts/mcu-common.sh"
mcu_need_tools "$cc" arm-none-eabi-ar arm-none-eabi-size openssl python3

# ------------------------------------------------------------ mbedTLS
mcu_mbedtls_source
mcu_mbedtls_build "${mbed_out:-$out/mbedtls}" "$jobs"

# ------------------------------------------------------------ generated
gen=$out/gen
mkdir -p "$out/obj"
mcu_copy_jsmn "$out/jsmn"   # only jsmn.h, nothing else of /usr/include

if [[ -z "$ca" ]]; then
  bash "$root/tests/server/make_certs.sh" "$out/certs"
  ca=$out/certs/ca.pem
fi
[[ -f "$ca" ]] || die "CA file '$ca' not found"
mcu_gen_anchors "$gen" "$ca" "$public_anchors"

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
for s in "${cw_srcs[@]}"; do
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
