#!/usr/bin/env bash
# mcu-options.sh - what each compile-time option of chatwire_config.h saves
# in flash on the Cortex-M4, turned off alone from the default build.
#
#   scripts/mcu-options.sh
#
# For each option, the QEMU mps2-an386 firmware (examples/qemu-mps2) is
# linked with chatwire's defaults and that one option at 0, and chatwire's
# own flash (text + rodata + data of src/core, src/client but jsmn, as linked with
# --gc-sections) is read by scripts/mcu-size.sh. The saving is the default
# build's flash minus that. mbedTLS is reused from build-mcu/. Prints one
# line per option, then the default and the smallest profile
# (examples/qemu-mps2/cw_config_small.h, every option off).
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=$root/build-mcu
options=(RETRIES RATELIMIT_HEADERS STATUS_TEXT HTTP_FAST_PATHS STREAM_FAST_PATHS DETAIL
         TOOLS REQUEST_OPTIONS CONTENT_PARTS REASONING NONBLOCKING)

# the default and small builds, and mbedTLS, come from mcu-size.sh
mkdir -p "$base"
bash "$root/scripts/mcu-size.sh" --out "$base" >"$base/options-base.txt"
flash_of() { awk -v row="$2" 'index($0, row) == 1 { print $NF; exit }' "$1"; }
full=$(flash_of "$base/options-base.txt" "chatwire, default options")
small=$(flash_of "$base/options-base.txt" "chatwire, cw_config_small.h")
[[ -n "$full" && -n "$small" ]] || { echo "mcu-options: no sizes from mcu-size.sh" >&2; exit 1; }

printf '%-28s %8s\n' "option (0 alone)" "saves"
for opt in "${options[@]}"; do
  d=$base/options/$opt
  mkdir -p "$d"
  printf '#define CW_CONFIG_%s 0\n' "$opt" >"$d/cw_config_off.h"
  bash "$root/scripts/mcu-build.sh" --out "$d" --cw-config "$d/cw_config_off.h" \
    --mbedtls-dir "$base/mbedtls" --ca "$base/certs/ca.pem" >/dev/null 2>"$d/build.log" ||
    { cat "$d/build.log" >&2; exit 1; }
  ln -sfn "$base/full" "$d/full"
  bash "$root/scripts/mcu-size.sh" --out "$d" >"$d/size.txt"
  off=$(flash_of "$d/size.txt" "chatwire, cw_config_small.h")
  printf '%-28s %8d\n' "CW_CONFIG_$opt" $((full - off))
done
printf '%-28s %8d\n' "default build (all on)" "$full"
printf '%-28s %8d\n' "cw_config_small.h (all off)" "$small"
