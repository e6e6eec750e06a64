#!/usr/bin/env bash
# freertos-build.sh - cross-build examples/freertos-lwip: chatwire on
# FreeRTOS + lwIP 2.2.1 + mbedTLS 3.6 for QEMU mps2-an386 (Cortex-M4F).
#
#   scripts/freertos-build.sh [--out DIR] [--ca PEM] [-j N]
#
#   --out DIR   build directory (default build-freertos)
#   --ca PEM    the test CA compiled in (default DIR/certs/ca.pem, made with
#               tests/server/make_certs.sh when missing)
#   -j N        parallel compiles (default 2)
#
# Where the parts come from (nothing is copied into the repository):
#   FreeRTOS-Kernel  $FREERTOS_KERNEL_PATH when set (a kernel tree, as the
#                    pico-sdk uses it), else the tarball
#                    ../shared/third_party/FreeRTOS-Kernel.tar.gz next to the
#                    repository, unpacked into DIR/FreeRTOS-Kernel. Neither:
#                    exit 77 (skipped).
#   lwIP 2.2.1       third_party/src/lwip-2.2.1+dfsg1 (its contrib FreeRTOS
#                    sys_arch), scripts/get-deps-src.sh --only lwip
#   mbedTLS 3.6.6    the Cortex-M4 library of scripts/mcu-build.sh: reused
#                    from build-mcu/mbedtls when that one is up to date, else
#                    built in DIR/mbedtls (scripts/mcu-common.sh)
# Then examples/freertos-lwip/Makefile compiles what changed and links
# DIR/chatwire-freertos.elf (+ .map). Prints ELF=path on stdout.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build-freertos
ca=""
jobs=2

die() { printf 'freertos-build: %s\n' "$*" >&2; exit 1; }
skip() { printf 'freertos-build: SKIPPED: %s\n' "$*" >&2; exit 77; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) [[ $# -ge 2 ]] || die "--out needs a directory"; out=$2; shift 2 ;;
    --ca) [[ $# -ge 2 ]] || die "--ca needs a file"; ca=$2; shift 2 ;;
    -j) [[ $# -ge 2 ]] || die "-j needs a number"; jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# shellcheck source=scripts/mcu-common.sh
source "$root/scripts/mcu-common.sh"
mcu_need_tools "$cc" arm-none-eabi-ar arm-none-eabi-size openssl python3 make

# ------------------------------------------------------------ FreeRTOS
tarball=$root/../shared/third_party/FreeRTOS-Kernel.tar.gz
if [[ -n "${FREERTOS_KERNEL_PATH:-}" ]]; then
  kernel=$(cd "$FREERTOS_KERNEL_PATH" && pwd)
  [[ -f "$kernel/tasks.c" && -f "$kernel/portable/GCC/ARM_CM4F/port.c" ]] ||
    die "FREERTOS_KERNEL_PATH=$FREERTOS_KERNEL_PATH is not a FreeRTOS-Kernel tree with the GCC/ARM_CM4F port"
elif [[ -f "$tarball" ]]; then
  kernel=$out/FreeRTOS-Kernel
  sum=$(sha256sum "$tarball" | cut -d' ' -f1)
  if [[ ! -f "$kernel/.tarball-sha256" || "$(cat "$kernel/.tarball-sha256")" != "$sum" ]]; then
    echo "freertos-build: unpacking $(basename "$tarball") into $kernel" >&2
    rm -rf "$kernel" "$kernel.tmp"
    mkdir -p "$kernel.tmp"
    tar xzf "$tarball" -C "$kernel.tmp" --strip-components=1
    [[ -f "$kernel.tmp/tasks.c" ]] || die "$tarball holds no FreeRTOS-Kernel tree"
    echo "$sum" >"$kernel.tmp/.tarball-sha256"
    mv "$kernel.tmp" "$kernel"
  fi
else
  skip "no FreeRTOS kernel: set FREERTOS_KERNEL_PATH or put FreeRTOS-Kernel.tar.gz in $(dirname "$tarball")"
fi

# ------------------------------------------------------------ lwIP
lwip=$root/third_party/src/lwip-2.2.1+dfsg1
if [[ ! -f "$lwip/contrib/ports/freertos/sys_arch.c" ]]; then
  echo "freertos-build: fetching lwIP source (scripts/get-deps-src.sh --only lwip)" >&2
  bash "$root/scripts/get-deps-src.sh" --only lwip >&2
fi
[[ -f "$lwip/contrib/ports/freertos/sys_arch.c" ]] || die "no lwIP 2.2.1 source in $lwip"

# ------------------------------------------------------------ mbedTLS
mcu_mbedtls_source
if [[ -f "$root/build-mcu/mbedtls/.id" && -f "$root/build-mcu/mbedtls/libmbedtls_mcu.a" &&
      "$(cat "$root/build-mcu/mbedtls/.id")" == "$(mcu_mbedtls_id)" ]]; then
  mbed_lib=$root/build-mcu/mbedtls/libmbedtls_mcu.a   # mcu-build.sh's, same flags
  echo "freertos-build: mbedTLS from $mbed_lib" >&2
else
  mcu_mbedtls_build "$out/mbedtls" "$jobs"
fi

# ------------------------------------------------------------ generated
if [[ -z "$ca" ]]; then
  bash "$root/tests/server/make_certs.sh" "$out/certs"
  ca=$out/certs/ca.pem
fi
mcu_gen_anchors "$out/gen" "$ca" 1 2>/dev/null
mcu_copy_jsmn "$out/jsmn"

# ------------------------------------------------------------ compile, link
q() { printf '%q ' "$@"; }
vars=(
  ROOT="$root" OUT="$out" KERNEL="$kernel" LWIP="$lwip"
  MBEDTLS_INC="$mbed_src/include" MBEDTLS_LIB="$mbed_lib" GEN="$out/gen"
  JSMN="$out/jsmn" CC="$cc" CPU="${cpu[*]}"
  COMMON="${common[*]}" WARN="${warn[*]}" CFG_DEF="$(q "${cfg_def[@]}")"
)
# objects depend on this file: rewritten (so everything rebuilds) only when
# a flag, a path or the compiler changed
stamp=$out/flags.stamp
{ printf '%s\n' "${vars[@]}"; "$cc" --version | head -n 1; } >"$stamp.new"
if cmp -s "$stamp.new" "$stamp"; then rm -f "$stamp.new"; else mv -f "$stamp.new" "$stamp"; fi
make -s -C "$root/examples/freertos-lwip" -j "$jobs" "${vars[@]}" >&2
elf=$out/chatwire-freertos.elf
arm-none-eabi-size "$elf" >&2
echo "ELF=$elf"
