#!/usr/bin/env bash
# cores.sh - chatwire on other cores: flash per part for three
# microcontroller instruction sets, and the core unit tests on a big-endian
# target and in 32-bit builds.
#
#   scripts/cores.sh [--sizes] [--tests] [--out DIR]     (default: both)
#
# Sizes: the core (in its default and smallest configurations), jsmn, the
# lwIP port, the TLS port and the MCU glue, compiled with -Os
# -ffunction-sections for
#   cortex-m4   arm-none-eabi-gcc, newlib (the firmware's core, for reference)
#   rv32imc     riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32, picolibc
#               (ESP32-C3's instruction set)
#   lx106       xtensa-lx106-elf-gcc -mlongcalls, picolibc (ESP8266)
# each against lwIP 2.2.1 and mbedTLS 3.6 headers (scripts/get-deps-src.sh)
# with tests/cores/lwip's options and ports/mbedtls/mcu's configuration.
# Flash of a part = text + rodata + data of a relocatable link
# (ld -r --gc-sections) kept from roots: for "chat" the five calls an
# application makes (cw_client_init, cw_chat_request_init, cw_chat,
# cw_client_close, cw_strerror), for "API" every function chatwire.h,
# chatwire_proxy.h and chatwire_transport.h declare, for a port every
# function its header declares. libc and mbedTLS are not counted. The
# Cortex-M4 small-profile gate (scripts/mcu-size.sh) links a whole firmware
# instead, so its figure differs from the "chat" column here by what the
# firmware calls besides.
#
# Tests: the core unit tests (tests/, without TLS) built and run, every
# registered test required to run (scripts/build-and-test.sh), for
#   s390x-gcc, s390x-clang   big-endian 64-bit, run under qemu-s390x
#   i686-gcc, i686-clang     32-bit x86 (-m32), run natively
# with cJSON compiled from Debian's source (scripts/get-deps-src.sh --only
# cjson) and the toolchain files in tests/cores/toolchains/.
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
do_sizes=0
do_tests=0
out=$root/build-cores
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) do_sizes=1; shift ;;
    --tests) do_tests=1; shift ;;
    --out) out=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "cores: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [[ $do_sizes -eq 0 && $do_tests -eq 0 ]]; then do_sizes=1; do_tests=1; fi
mkdir -p "$out"

eval "$(bash scripts/get-deps-src.sh 2>/dev/null | grep -E '^(MBEDTLS|LWIP)_SRC_DIR=')"
jsmn_dir=$out/jsmn
mkdir -p "$jsmn_dir"
cp /usr/include/jsmn.h "$jsmn_dir/"   # jsmn.h alone, not all of /usr/include
warn=(-Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror)

# chatwire's sources, from the one list
mk_list() {
  printf 'include %s/chatwire.mk\n$(info $(%s))\nall: ;\n' "$root" "$1" |
    make -s -f - all | tr ' ' '\n' | grep .
}
mapfile -t core_srcs < <(mk_list CHATWIRE_CORE_SRCS)
jsmn_src=$(mk_list CHATWIRE_JSMN_SRCS)
lwip_src=$(mk_list CHATWIRE_LWIP_SRCS)
tls_src=$(mk_list CHATWIRE_MBEDTLS_SRCS)
mcu_src=$(mk_list CHATWIRE_MBEDTLS_MCU_SRCS)

# the functions a header declares: the roots of a part
decls() { grep -ohE '\bcw_[a-z0-9_]+[[:space:]]*\(' "$@" | tr -d '( \t' | sort -u; }
chat_roots=(cw_client_init cw_chat_request_init cw_chat cw_client_close cw_strerror)
mapfile -t api_roots < <(decls include/chatwire.h include/chatwire_proxy.h include/chatwire_transport.h)

arch_cc() {
  case "$1" in
    cortex-m4) echo "arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16" ;;
    rv32imc) echo "riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 --specs=picolibc.specs" ;;
    lx106) echo "xtensa-lx106-elf-gcc -mlongcalls --specs=/usr/lib/xtensa-lx106-elf/picolibc.specs" ;;
  esac
}
arch_pre() {
  case "$1" in
    cortex-m4) echo arm-none-eabi ;; rv32imc) echo riscv64-unknown-elf ;; lx106) echo xtensa-lx106-elf ;;
  esac
}
arch_ld() {   # the linker's emulation, where the default is not the 32-bit one
  case "$1" in rv32imc) echo "-m elf32lriscv" ;; *) echo "" ;; esac
}

# compile DIR ARCH SRC [FLAGS...] -> DIR/<name>.o
compile() {
  local dir=$1 arch=$2 src=$3; shift 3
  local cc; read -r -a cc <<<"$(arch_cc "$arch")"
  mkdir -p "$dir"
  "${cc[@]}" -std=c99 -Os -ffunction-sections -fdata-sections -fno-common \
    "${warn[@]}" -I"$root/include" -I"$root/src" -isystem "$jsmn_dir" "$@" -c "$src" \
    -o "$dir/$(basename "$src" .c).o"
}

# flash ARCH OUT ROOTS... -- OBJS... : text + data of what the roots keep
flash() {
  local arch=$1 outo=$2; shift 2
  local roots=() objs=() pre ld_m
  while [[ $1 != -- ]]; do roots+=(-u "$1"); shift; done
  shift
  objs=("$@")
  pre=$(arch_pre "$arch")
  read -r -a ld_m <<<"$(arch_ld "$arch")"
  "$pre-ld" "${ld_m[@]}" -r --gc-sections "${roots[@]}" -o "$outo" "${objs[@]}"
  "$pre-size" "$outo" | awk 'NR == 2 { print $1 + $2 }'
}

sizes() {
  local arch dir lwip_inc=("-isystem" "$root/tests/cores/lwip" "-isystem" "$LWIP_SRC_DIR/src/include")
  local tls_inc=(-I"$root/ports/mbedtls" -I"$root/ports/mbedtls/mcu" -DMBEDTLS_CONFIG_FILE='"cw_mbedtls_config.h"'
                 -isystem "$MBEDTLS_SRC_DIR/include")
  local table=$out/sizes.md
  {
    echo "| core | compiler | chatwire, chat (default) | chatwire, chat (small) | chatwire, API (default) | jsmn | lwIP port | TLS port | MCU glue |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  } >"$table"
  for arch in cortex-m4 rv32imc lx106; do
    dir=$out/$arch
    rm -rf "$dir"
    local s
    for s in "${core_srcs[@]}"; do
      compile "$dir/default" "$arch" "$s"
      compile "$dir/small" "$arch" "$s" -DCW_CONFIG_FILE="\"$root/examples/qemu-mps2/cw_config_small.h\""
    done
    compile "$dir" "$arch" "$jsmn_src"
    compile "$dir" "$arch" "$lwip_src" -I"$root/ports/lwip" "${lwip_inc[@]}"
    compile "$dir" "$arch" "$tls_src" "${tls_inc[@]}"
    compile "$dir" "$arch" "$mcu_src" "${tls_inc[@]}"
    local chat_d chat_s api_d jsmn lwip tls mcu ver
    chat_d=$(flash "$arch" "$dir/chat-default.o" "${chat_roots[@]}" -- "$dir"/default/*.o)
    chat_s=$(flash "$arch" "$dir/chat-small.o" "${chat_roots[@]}" -- "$dir"/small/*.o)
    api_d=$(flash "$arch" "$dir/api-default.o" "${api_roots[@]}" -- "$dir"/default/*.o)
    jsmn=$(flash "$arch" "$dir/jsmn-only.o" cw_jsmn_init cw_jsmn_parse -- "$dir/cw_jsmn.o")
    mapfile -t r < <(decls "$root/ports/lwip/cw_lwip.h")
    lwip=$(flash "$arch" "$dir/lwip-only.o" "${r[@]}" -- "$dir/cw_lwip.o")
    mapfile -t r < <(decls "$root/ports/mbedtls/cw_tls.h")
    tls=$(flash "$arch" "$dir/tls-only.o" "${r[@]}" -- "$dir/cw_tls.o")
    mapfile -t r < <(decls "$root/ports/mbedtls/mcu/cw_tls_mcu.h")
    mcu=$(flash "$arch" "$dir/mcu-only.o" "${r[@]}" mbedtls_hardware_poll mbedtls_ms_time mbedtls_platform_gmtime_r -- "$dir/cw_tls_mcu.o")
    ver=$("$(arch_pre "$arch")-gcc" -dumpversion)
    echo "| $arch | gcc $ver | $chat_d | $chat_s | $api_d | $jsmn | $lwip | $tls | $mcu |" >>"$table"
  done
  echo "Flash in bytes (text + rodata + data, after --gc-sections from the roots; libc and mbedTLS not counted):"
  cat "$table"
}

tests() {
  eval "$(bash scripts/get-deps-src.sh --only cjson 2>/dev/null | grep '^CJSON_SRC_DIR=')"
  local t
  for t in s390x-linux-gnu-gcc s390x-linux-gnu-clang i686-linux-gnu-gcc i686-linux-gnu-clang; do
    echo "== core unit tests: $t"
    bash scripts/build-and-test.sh "$out/test-$t" \
      -DCMAKE_TOOLCHAIN_FILE="$root/tests/cores/toolchains/$t.cmake" \
      -DCMAKE_BUILD_TYPE=Debug -DCW_WITH_MBEDTLS=OFF -DCW_INSTALL=OFF \
      -DCW_JSMN_INCLUDE_DIR="$jsmn_dir" -DCW_CJSON_SOURCE_DIR="$CJSON_SRC_DIR"
  done
}

# every compile-time option off alone (and all off) still compiles cleanly
options_alone() {
  local opts o f d=$out/options
  mkdir -p "$d"
  mapfile -t opts < <(grep -oE '^#ifndef CW_CONFIG_[A-Z_]+' include/chatwire_config.h |
                      sed 's/#ifndef //')
  for o in "${opts[@]}" ALL; do
    if [[ $o == ALL ]]; then
      cp examples/qemu-mps2/cw_config_small.h "$d/off.h"
    else
      printf '#define %s 0\n' "$o" >"$d/off.h"
    fi
    for f in "${core_srcs[@]}" "$jsmn_src"; do
      cc -std=c99 -Os "${warn[@]}" -I"$root/include" -I"$root/src" -isystem "$jsmn_dir" \
        -DCW_CONFIG_FILE="\"$d/off.h\"" -c "$f" -o "$d/x.o" ||
        { echo "cores: $f does not compile with $o 0" >&2; exit 1; }
    done
  done
  echo "every option off alone, and all off: the core compiles (${#opts[@]} options)"
}

[[ $do_sizes -eq 1 ]] && options_alone
[[ $do_sizes -eq 1 ]] && sizes
[[ $do_tests -eq 1 ]] && tests
exit 0
