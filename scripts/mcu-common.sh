# mcu-common.sh - sourced, not run: what every Cortex-M4 build of chatwire
# for QEMU mps2-an386 shares (scripts/mcu-build.sh for examples/qemu-mps2,
# scripts/freertos-build.sh for examples/freertos-lwip, scripts/mcu-size.sh).
#
#   root=/path/to/chatwire; source "$root/scripts/mcu-common.sh"
#
# Defines the toolchain and flags (cc, cpu, common, warn, cfg_def), where
# the mbedTLS source and the MCU glue are (mbed_src, mcu_dir), the list of
# chatwire's own sources (cw_srcs), and functions:
#   mcu_need_tools TOOL...          exit with a hint when a tool is missing
#   mcu_mbedtls_source              fetch the mbedTLS source when missing
#   mcu_mbedtls_id                  what the library build depends on
#   mcu_mbedtls_build DIR JOBS      build DIR/libmbedtls_mcu.a unless up to
#                                   date; sets mbed_lib
#   mcu_gen_anchors GEN CA PUBLIC   GEN/test_ca.c from the PEM CA, and
#                                   GEN/trust_anchors.c (PUBLIC 1: the public
#                                   roots, 0: an empty table)
#   mcu_copy_jsmn DIR               DIR/jsmn.h, and nothing else of
#                                   /usr/include
# CW_MBEDTLS_SRC overrides the mbedTLS source tree; CW_MBEDTLS_USER_CONFIG
# adds a user config (MBEDTLS_USER_CONFIG_FILE) to every mbedTLS build;
# CW_MBEDTLS_FAST_FILES and CW_MBEDTLS_FAST_FLAGS: which library files are
# compiled for speed, and how (see mbed_fast).
# Callers use set -euo pipefail and LC_ALL=C.

cc=arm-none-eabi-gcc
cpu=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
common=(-std=c99 -Os -g "${cpu[@]}" -ffunction-sections -fdata-sections
        -fno-common -fstack-usage)
warn=(-Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror)
mcu_dir=$root/ports/mbedtls/mcu
cfg_def=(-DMBEDTLS_CONFIG_FILE='"cw_mbedtls_config.h"' -DCW_MBEDTLS_MEMORY_DEBUG)
user_cfg=""
if [[ -n "${CW_MBEDTLS_USER_CONFIG:-}" ]]; then
  user_cfg=$(cd "$(dirname "$CW_MBEDTLS_USER_CONFIG")" && pwd)/$(basename "$CW_MBEDTLS_USER_CONFIG")
  [[ -f "$user_cfg" ]] || { echo "CW_MBEDTLS_USER_CONFIG: $user_cfg not found" >&2; exit 1; }
  cfg_def+=(-DMBEDTLS_USER_CONFIG_FILE="\"$user_cfg\"")
fi
mbed_src=${CW_MBEDTLS_SRC:-$root/third_party/src/mbedtls-3.6.6}
# What the library build compiles besides library/*.c: p256-m, mbedTLS's
# P-256 driver behind PSA (MBEDTLS_PSA_P256M_DRIVER_ENABLED), and Project
# Everest's X25519 (MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED, measured by
# scripts/mcu-cost.sh, not used: its header is needed by everything that
# includes mbedtls/ecdh.h). Each compiles to nothing unless the config
# enables it.
mbed_extra=(3rdparty/p256-m/p256-m_driver_entrypoints.c 3rdparty/p256-m/p256-m/p256-m.c
            3rdparty/everest/library/everest.c 3rdparty/everest/library/x25519.c
            3rdparty/everest/library/Hacl_Curve25519_joined.c)
mbed_lib_inc=(-I"$mbed_src/include" -I"$mbed_src/library"
              -I"$mbed_src/3rdparty/p256-m" -I"$mbed_src/3rdparty/p256-m/p256-m"
              -I"$mbed_src/3rdparty/everest/include"
              -I"$mbed_src/3rdparty/everest/include/everest"
              -I"$mbed_src/3rdparty/everest/include/everest/kremlib")
# Files of the library compiled for speed (mbed_fast_flags after -Os: the
# last -O wins) instead of size, paths under the source tree,
# space-separated. The default, chosen by measurement (scripts/mcu-cost.sh
# prints the variants): p256-m, whose 8-limb loops -O3 unrolls; -O3 makes
# its scalar multiplication 25 % cheaper than -Os (8.2 M -> 6.1 M
# instructions) for 5.0 KB more flash, where -O2 saves 9 % for 1.6 KB and
# -O3 with inlining 25 % for 8.6 KB. CW_MBEDTLS_FAST_FILES and
# CW_MBEDTLS_FAST_FLAGS override them.
mbed_fast=${CW_MBEDTLS_FAST_FILES-3rdparty/p256-m/p256-m/p256-m.c}
# p256-m's driver calls two functions of the glue instead of p256-m's own,
# so that a key pair's public key is not computed twice (one scalar
# multiplication less per TLS handshake: ports/mbedtls/mcu/cw_mbedtls_mcu.c).
# CW_MBEDTLS_P256M_KEEP_PUBLIC=0 builds the driver as it is.
mbed_p256m_file=3rdparty/p256-m/p256-m_driver_entrypoints.c
mbed_p256m_flags=""
if [[ "${CW_MBEDTLS_P256M_KEEP_PUBLIC:-1}" == 1 ]]; then
  mbed_p256m_flags="-Dp256_gen_keypair=cw_p256m_gen_keypair -Dp256_public_from_private=cw_p256m_public_from_private"
fi
mbed_fast_flags=${CW_MBEDTLS_FAST_FLAGS:--O3 -fno-inline-functions}

# chatwire's own sources, the one list every MCU build compiles (and the one
# mcu-size.sh attributes to chatwire): the core and jsmn, as chatwire.mk
# (and chatwireFilePaths.cmake) list them
mapfile -t cw_srcs < <(printf 'include %s/chatwire.mk\n$(info $(CHATWIRE_CORE_SRCS) $(CHATWIRE_JSMN_SRCS))\nall: ;\n' \
                         "$root" | make -s -f - all | tr ' ' '\n' | grep .)
[[ ${#cw_srcs[@]} -gt 0 ]] || { echo "mcu-common: no sources from chatwire.mk" >&2; exit 1; }

mcu_need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 ||
      { echo "$t not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi openssl python3)" >&2; exit 1; }
  done
}

mcu_mbedtls_source() {
  if [[ ! -f "$mbed_src/library/ssl_tls.c" ]]; then
    echo "fetching mbedTLS source (scripts/get-deps-src.sh --only mbedtls)" >&2
    bash "$root/scripts/get-deps-src.sh" --only mbedtls >&2
  fi
  [[ -f "$mbed_src/library/ssl_tls.c" ]] || { echo "no mbedTLS source in $mbed_src" >&2; exit 1; }
}

mcu_mbedtls_id() {
  { cat "$mcu_dir/cw_mbedtls_config.h" ${user_cfg:+"$user_cfg"}; echo "$mbed_src";
    printf '%s\n' "${common[@]}" "${cfg_def[@]}" "${mbed_extra[@]}" "fast: $mbed_fast: $mbed_fast_flags" \
      "p256-m driver: $mbed_p256m_flags"
    "$cc" --version | head -n 1; } |
    sha256sum | cut -d' ' -f1
}

# The library is rebuilt only when the config, the flags, the source tree's
# place or the compiler changed (DIR/.id).
mcu_mbedtls_build() { # DIR JOBS
  local dir=$1 jobs=$2 id
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  mbed_lib=$dir/libmbedtls_mcu.a
  id=$(mcu_mbedtls_id)
  if [[ -f "$mbed_lib" && -f "$dir/.id" && "$(cat "$dir/.id")" == "$id" ]]; then
    echo "mbedTLS up to date ($mbed_lib)" >&2
    return 0
  fi
  echo "building mbedTLS $(basename "$mbed_src") for Cortex-M4 (-j$jobs)" >&2
  rm -rf "$dir"
  mkdir -p "$dir/obj"
  # warnings in third-party code are not ours to fix: silenced (-w); the
  # files named in mbed_fast get mbed_fast_flags after -Os
  # shellcheck disable=SC2016  # expanded by the inner sh
  MBED_OBJ_DIR="$dir/obj" MBED_SRC="$mbed_src" MBED_FAST=" $mbed_fast " \
  MBED_FAST_FLAGS="$mbed_fast_flags" MBED_P256M="$mbed_p256m_file" MBED_P256M_FLAGS="$mbed_p256m_flags" \
  xargs -0 -P "$jobs" -I{} sh -c \
    'f=$1; shift; o=; case "$MBED_FAST" in *" ${f#"$MBED_SRC"/} "*) o=$MBED_FAST_FLAGS ;; esac
     [ "${f#"$MBED_SRC"/}" = "$MBED_P256M" ] && o="$o $MBED_P256M_FLAGS"
     exec "$@" $o -c "$f" -o "$MBED_OBJ_DIR/$(basename "$f" .c).o"' \
    sh {} "$cc" "${common[@]}" "${cfg_def[@]}" -I"$mcu_dir" "${mbed_lib_inc[@]}" \
    -w < <(printf '%s\0' "$mbed_src"/library/*.c "${mbed_extra[@]/#/$mbed_src/}")
  arm-none-eabi-ar rcs "$mbed_lib" "$dir"/obj/*.o
  echo "$id" >"$dir/.id"
}

mcu_gen_anchors() { # GEN CA PUBLIC
  local gen=$1 ca=$2 public=$3
  mkdir -p "$gen"
  [[ -f "$ca" ]] || { echo "CA file '$ca' not found" >&2; exit 1; }
  openssl x509 -in "$ca" -outform DER -out "$gen/test_ca.der"
  python3 - "$gen/test_ca.der" "$gen/test_ca.c" <<'EOF'
import sys
der = open(sys.argv[1], 'rb').read()
rows = [', '.join('0x%02x' % b for b in der[i:i + 12]) for i in range(0, len(der), 12)]
text = ('/* Generated by scripts/mcu-common.sh from the test CA: do not edit. */\n'
        '#include <stddef.h>\n\n'
        'const unsigned char cw_fw_test_ca[] = {\n    ' + ',\n    '.join(rows) + '\n};\n'
        'const size_t cw_fw_test_ca_len = sizeof cw_fw_test_ca;\n')
try:
    same = open(sys.argv[2]).read() == text
except OSError:
    same = False
if not same:  # unchanged files keep their time: make rebuilds nothing
    with open(sys.argv[2], 'w') as f:
        f.write(text)
EOF
  local anchors=$gen/trust_anchors.c
  if [[ $public -eq 1 ]]; then
    bash "$root/scripts/gen-trust-anchors.sh" "$anchors.new"
  else
    bash "$root/scripts/gen-trust-anchors.sh" --empty "$anchors.new"
  fi
  if cmp -s "$anchors.new" "$anchors"; then rm -f "$anchors.new"; else mv -f "$anchors.new" "$anchors"; fi
}

mcu_copy_jsmn() { # DIR
  mkdir -p "$1"
  cmp -s /usr/include/jsmn.h "$1/jsmn.h" || cp /usr/include/jsmn.h "$1/jsmn.h"
}
