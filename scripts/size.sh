#!/usr/bin/env bash
# size.sh - measured code size of the chatwire library, and of its two
# caller-placed structures.
#
#   scripts/size.sh
#
# host:      the `chatwire` static library built by CMake (MinSizeRel, -Os)
#            with the host compiler ($CC, default cc), measured with
#            `size -t` on the archive.
# cortex-m4: when arm-none-eabi-gcc is installed, each src/core, src/client compiled
#            alone with -Os -mcpu=cortex-m4 -mthumb -ffunction-sections
#            -fdata-sections (newlib's headers, plus only jsmn.h copied from
#            the host), measured with arm-none-eabi-size. Nothing is linked,
#            so unused functions still count: this is an upper bound on what
#            a --gc-sections link keeps.
# sizeof:    computed at compile time (a char array of that size, read back
#            with nm -S), so nothing runs on the target.
#
# Everything is built in a temporary directory that is removed on exit.
# Compiler warnings for the Cortex-M4 build go to stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cw-size.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C

host_cc=${CC:-cc}
arm_cc=arm-none-eabi-gcc
jsmn_dir=${CW_JSMN_INCLUDE_DIR:-/usr/include}
have_arm=false
if command -v "$arm_cc" >/dev/null 2>&1 &&
   command -v arm-none-eabi-size >/dev/null 2>&1 &&
   command -v arm-none-eabi-nm >/dev/null 2>&1; then
  have_arm=true
fi

# ------------------------------------------------------------ host library
CC="$host_cc" cmake -S "$root" -B "$tmp/host" -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DCW_BUILD_TESTS=OFF -DCW_BUILD_EXAMPLES=OFF -DCW_BUILD_FUZZ=OFF \
  -DCW_SANITIZE=OFF -DCW_JSMN_INCLUDE_DIR="$jsmn_dir" >"$tmp/host.log" 2>&1 ||
  { cat "$tmp/host.log" >&2; exit 1; }
cmake --build "$tmp/host" --target chatwire >>"$tmp/host.log" 2>&1 ||
  { cat "$tmp/host.log" >&2; exit 1; }
lib=$(find "$tmp/host" -name 'libchatwire.a' | head -n 1)

# "name text data bss" per object, from Berkeley-format size output
size -t "$lib" | awk 'NR > 1 && $6 != "(TOTALS)" {
    n = $6; sub(/\.c\.o$/, "", n); sub(/\.o$/, "", n); print n, $1, $2, $3 }' |
  sort >"$tmp/host.sizes"

# sizeof at compile time: char arrays whose symbol sizes nm -S reports
cat >"$tmp/sizes.c" <<'EOF'
#include "chatwire.h"
char cw_sizeof_client[sizeof(cw_client_t)];
char cw_sizeof_result[sizeof(cw_result_t)];
EOF
sizeof_of() { # nm-program object symbol
  local hex
  hex=$("$1" -S --defined-only "$2" | awk -v s="$3" '$4 == s { print $2 }')
  printf '%d' "0x$hex"
}
"$host_cc" -std=c99 -fno-common -I"$root/include" -c "$tmp/sizes.c" \
  -o "$tmp/sizes_host.o"
host_client=$(sizeof_of nm "$tmp/sizes_host.o" cw_sizeof_client)
host_result=$(sizeof_of nm "$tmp/sizes_host.o" cw_sizeof_result)

# ------------------------------------------------------------ Cortex-M4
arm_flags=(-std=c99 -Os -mcpu=cortex-m4 -mthumb -ffunction-sections
           -fdata-sections -fno-common -Wall -Wextra -Wpedantic -Wconversion
           -Wshadow)
if $have_arm; then
  mkdir -p "$tmp/jsmn" "$tmp/arm"
  cp "$jsmn_dir/jsmn.h" "$tmp/jsmn/"
  for src in "$root"/src/core/*.c "$root"/src/client/*.c; do
    name=$(basename "$src" .c)
    "$arm_cc" "${arm_flags[@]}" -I"$root/include" -I"$root/src" \
      -isystem "$tmp/jsmn" -c "$src" -o "$tmp/arm/$name.o"
  done
  (cd "$tmp/arm" && arm-none-eabi-size -t ./*.o) |
    awk 'NR > 1 && $6 != "(TOTALS)" {
      n = $6; sub(/^\.\//, "", n); sub(/\.o$/, "", n); print n, $1, $2, $3 }' |
    sort >"$tmp/arm.sizes"
  "$arm_cc" "${arm_flags[@]}" -I"$root/include" -c "$tmp/sizes.c" \
    -o "$tmp/sizes_arm.o"
  arm_client=$(sizeof_of arm-none-eabi-nm "$tmp/sizes_arm.o" cw_sizeof_client)
  arm_result=$(sizeof_of arm-none-eabi-nm "$tmp/sizes_arm.o" cw_sizeof_result)
else
  : >"$tmp/arm.sizes"
  arm_client=-
  arm_result=-
fi

# ------------------------------------------------------------ the table
host_ver=$("$host_cc" --version | head -n 1)
host_arch=$("$host_cc" -dumpmachine)
if $have_arm; then
  arm_ver="arm-none-eabi-gcc $("$arm_cc" -dumpfullversion 2>/dev/null ||
                               "$arm_cc" -dumpversion)"
else
  arm_ver="arm-none-eabi-gcc not found"
fi

echo "chatwire $(sed -n 's/^#define CW_VERSION_STRING "\(.*\)"/\1/p' \
  "$root/include/chatwire.h") code size in bytes"
echo "host:      $host_arch, $host_ver, -Os (CMake MinSizeRel);"
echo "           host text includes .eh_frame, data the relocated const tables"
echo "cortex-m4: $arm_ver, -Os -mthumb -ffunction-sections -fdata-sections, unlinked"
echo
join -a 1 -e - -o 0,1.2,1.3,1.4,2.2,2.3,2.4 "$tmp/host.sizes" \
  "$tmp/arm.sizes" >"$tmp/joined"
awk -v hc="$host_client" -v hr="$host_result" \
    -v ac="$arm_client" -v ar="$arm_result" '
  function row(a, b, c, d, e, f, g,    line) {
    line = sprintf("%-22s %8s %6s %6s   %8s %6s %6s", a, b, c, d, e, f, g)
    sub(/ +$/, "", line)
    print line
  }
  BEGIN {
    printf "%-22s %22s   %22s\n", "", "host", "cortex-m4"
    row("object", "text", "data", "bss", "text", "data", "bss")
    row("----------------------", "--------", "------", "------",
        "--------", "------", "------")
  }
  {
    row($1, $2, $3, $4, $5, $6, $7)
    for (i = 2; i <= 7; i++) if ($i != "-") t[i] += $i; else m[i] = 1
  }
  END {
    row("----------------------", "--------", "------", "------",
        "--------", "------", "------")
    for (i = 2; i <= 7; i++) v[i] = (i in m) ? "-" : t[i]
    row("total", v[2], v[3], v[4], v[5], v[6], v[7])
    row("sizeof(cw_client_t)", hc, "", "", ac, "", "")
    row("sizeof(cw_result_t)", hr, "", "", ar, "", "")
  }' "$tmp/joined"
